"""The park data model: canonical tables, identifiers, geometry and time helpers.

This package imports nothing from the rest of ParkBrain.
"""

from parkbrain.model.tables import CANONICAL_TABLES, Column, TableSpec, table_spec
from parkbrain.model.uscc import is_valid_uscc, make_uscc, uscc_check_digit

__all__ = [
    "CANONICAL_TABLES",
    "Column",
    "TableSpec",
    "is_valid_uscc",
    "make_uscc",
    "table_spec",
    "uscc_check_digit",
]
