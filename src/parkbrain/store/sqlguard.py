"""Check that a user's SQL is exactly one read-only SELECT, using DuckDB's own parser.

``json_serialize_sql`` only serialises SELECT statements, so DDL, DML, COPY, ATTACH, PRAGMA, SET and
INSTALL are refused by the parser itself. On top of that, table functions that reach outside the
database (``read_csv``, ``read_parquet``, ``glob`` …) and functions that read the environment are
refused: the only table functions allowed are those that generate values.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from parkbrain.errors import QueryError

ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ALLOWED_SCHEMAS = frozenset({"", "main", "information_schema"})
DENIED_TABLES = frozenset({"pg_settings", "duckdb_settings", "duckdb_secrets"})
#: Credential tables: even their hashes are not for queries.
SECRET_TABLES = frozenset({"users", "api_tokens", "sessions"})
DENIED_FUNCTIONS = frozenset({"getenv", "current_setting", "read_text", "read_blob"})


def check_readonly_select(con: Any, sql: str) -> None:
    """Raise ``QueryError`` unless ``sql`` is one SELECT that touches only database tables."""
    if not sql or not sql.strip():
        raise QueryError("the query is empty; expected one SELECT statement")
    raw = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error"):
        message = tree.get("error_message", "")
        if "Only SELECT" in message:
            raise QueryError("only read-only SELECT queries are allowed")
        raise QueryError(f"the query does not parse: {message}")
    statements = tree.get("statements", [])
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SELECT statement, got {len(statements)}")
    _walk(tree)


def run_readonly_select(con: Any, sql: str, timeout_s: float) -> Any:
    """Run a checked SELECT in a read-only transaction on ``con`` (the connection that holds the
    caller's temporary views), stopped by ``con.interrupt()`` from a timer after ``timeout_s``; returns
    the result as an Arrow table. ``QueryError`` when it runs too long or DuckDB refuses it."""
    import duckdb

    check_readonly_select(con, sql)
    con.execute("BEGIN TRANSACTION READ ONLY")
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.start()
    try:
        relation = con.sql(sql)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # DuckDB >= 1.4, before
        return fetch()
    except duckdb.InterruptException:
        raise QueryError(f"the query ran longer than {timeout_s:g} s and was stopped") from None
    except duckdb.Error as exc:
        raise QueryError(
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        ) from None
    finally:
        timer.cancel()
        timer.join()  # a late interrupt lands before the rollback, never during it
        con.execute("ROLLBACK")


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "TABLE_FUNCTION":
            name = _function_name(node.get("function"))
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryError(
                    f"table function {name or '?'}() is not allowed; query the park tables instead"
                )
        if node.get("type") == "BASE_TABLE":
            _check_table(node)
        if node.get("class") == "FUNCTION" and str(node.get("function_name", "")).lower() in DENIED_FUNCTIONS:
            raise QueryError(f"function {node['function_name']}() is not allowed")
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def _check_table(node: dict[str, Any]) -> None:
    """Only plain tables of the database: a string or dotted name in FROM ('x.csv', secret.csv) is a
    replacement scan that reads a file, and the settings catalogs expose the configuration."""
    name = str(node.get("table_name", ""))
    schema = str(node.get("schema_name", "") or "")
    catalog = str(node.get("catalog_name", "") or "")
    if not _IDENT.match(name) or catalog or schema not in ALLOWED_SCHEMAS:
        shown = ".".join(p for p in (catalog, schema, name) if p)
        raise QueryError(f"{shown!r} is not a park table; query the park tables instead")
    if name.lower() in DENIED_TABLES:
        raise QueryError(f"{name} is not allowed")
    if name.lower() in SECRET_TABLES:
        raise QueryError(
            f"{name} holds credentials and cannot be queried; use `parkbrain user list` / `token list`"
        )


def _function_name(function: Any) -> str:
    if isinstance(function, dict):
        return str(function.get("function_name", "")).lower()
    return ""
