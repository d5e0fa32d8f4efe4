"""Storage: the ``Store`` interface and its DuckDB backend (the only place with dialect SQL)."""

from parkbrain.store.base import INTERVALS, Store, WriteResult
from parkbrain.store.duckdb import DuckDBStore

__all__ = ["INTERVALS", "DuckDBStore", "Store", "WriteResult"]
