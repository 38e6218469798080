"""SHACL validation: ``results`` (the report model), ``shapes`` (loaded by glob from ``shapes/``),
``compile`` (a table of compilers keyed by SHACL parameter), ``engines`` (fast, pySHACL), ``batch``
(the data graph of a batch of records and its store context) and ``service`` (the one way in:
:func:`validate`, plus the importer's validator and ``audit``)."""
from collabkg.validation.compile import COMPILERS, SUPPORTED, Unsupported
from collabkg.validation.engines import ENGINES, engine_name, run_pyshacl
from collabkg.validation.results import (FORMATTERS, SEVERITIES, RecordReport, Result, conforms, format_json,
                                         format_text, format_turtle, report_graph)
from collabkg.validation.service import (ImportValidator, audit, import_validator, map_for_validation, read_rdf,
                                         record_graphs, record_shapes, store_results, validate, validate_batch, validate_files,
                                         validate_graphs)
from collabkg.validation.shapes import load_shapes, property_labels, shape_files, shape_messages, shapes_graph

__all__ = [
    "COMPILERS", "SUPPORTED", "Unsupported", "ENGINES", "engine_name", "run_pyshacl", "FORMATTERS", "SEVERITIES",
    "RecordReport", "Result", "conforms", "format_json", "format_text", "format_turtle", "report_graph",
    "ImportValidator", "audit", "import_validator", "map_for_validation", "read_rdf", "record_graphs", "record_shapes", "store_results",
    "validate", "validate_batch", "validate_files", "validate_graphs", "load_shapes", "property_labels", "shape_files",
    "shape_messages", "shapes_graph",
]
