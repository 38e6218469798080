"""Past one machine: ``collabkg map`` (partitions → gzipped N-Quads shards with a manifest, on local
processes or a Dask cluster; ``run``, ``mapper``, ``partitions``) and ``collabkg load`` (checksums
verified, bulk-loaded into the embedded store or a Virtuoso server, then enriched; ``load``)."""
