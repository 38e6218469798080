"""Compatibility: the importer is now the ``collabkg.importing`` package (stages with names)."""
from collabkg.importing import *  # noqa: F401,F403
from collabkg.importing import BATCH_RECORDS, ONTOLOGY_GRAPH, ImportSummary, Rejection, build, class_counts, ingest, load_ontology  # noqa: F401
