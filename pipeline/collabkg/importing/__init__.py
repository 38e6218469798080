"""Importing: the stages read → map → validate → write → enrich (``stages``), run in worker processes
where it pays (``collabkg.parallel``), orchestrated by ``run``; what an import did is an ``ImportSummary``."""
from collabkg.importing.run import BATCH_RECORDS, ONTOLOGY_GRAPH, build, class_counts, ingest, load_ontology, store_counts
from collabkg.importing.summary import STAGES, ImportSummary, Rejection

__all__ = ["BATCH_RECORDS", "ONTOLOGY_GRAPH", "STAGES", "ImportSummary", "Rejection", "build", "class_counts", "ingest", "load_ontology", "store_counts"]
