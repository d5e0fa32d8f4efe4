"""Free SQL from a model → SQL that is safe to run for the caller, or a refusal with the reason.

The rules, in order (``QueryError`` names the first one broken):

1. sqlglot (dialect duckdb) parses exactly one statement, a SELECT (``WITH … SELECT`` and UNION /
   INTERSECT / EXCEPT of SELECTs allowed); nothing that writes, attaches, copies, sets or loads anywhere
   in it, no ``SELECT … INTO`` and no ``FOR UPDATE``.
2. Every relation read is an allow-listed one (``ALLOWED_RELATIONS``: the assistant's ``sem_*`` views and
   the read-only canonical tables), named plainly (no schema other than ``main``, no catalog, no quoted
   file path); never a credential or audit table; no table functions or file readers
   (``read_csv``, ``read_parquet``, ``glob`` …) and no function that reads the settings or the
   environment (``getenv``, ``current_setting`` …).
3. A CTE may not take the name of an allow-listed relation or of any relation of the database (it would
   hide the real one from the tenant filter).

Then the platform, not the model, limits it: comments are dropped, each base relation becomes a
subquery filtered by the caller's ``Scope`` (``space.scope``: the same predicates ``Park.enterprises``
and ``Park.points`` use), and a LIMIT is applied (default ``DEFAULT_LIMIT``, at most ``MAX_LIMIT``).
``run_safe_sql`` re-checks the result with DuckDB's own parser (``store.sqlguard``) and runs it in a
read-only transaction, interrupted after a timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from parkbrain.ai.semantic import VIEWS
from parkbrain.errors import QueryError
from parkbrain.store.base import Predicate
from parkbrain.store.sqlguard import SECRET_TABLES, run_readonly_select

logging.getLogger("sqlglot").addHandler(logging.NullHandler())  # its parse warnings are our refusals

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
DEFAULT_TIMEOUT_S = 5.0

SEMANTIC_VIEWS = frozenset(VIEWS)
CANONICAL_TABLES = frozenset(
    {
        "parks",
        "regions",
        "enterprises",
        "buildings",
        "devices",
        "points",
        "alerts",
        "readings_1d",
        "readings_1h",
        "readings_15m",
        "latest_readings",
    }
)
ALLOWED_RELATIONS = SEMANTIC_VIEWS | CANONICAL_TABLES
#: Never readable, whatever else changes: credentials, the audit trail, the grants register.
DENIED_RELATIONS = SECRET_TABLES | frozenset({"audit_log", "grants", "imports", "schema_migrations"})

DENIED_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "set_variable",
        "getvariable",
        "glob",
        "sniff_csv",
        "query",
        "query_table",
        "load_extension",
        "enable_logging",
        "which_secret",
        "make_timestamp_from_file",
        "version",
        "nextval",
        "currval",
        "setseed",
    }
)
DENIED_FUNCTION_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "sqlite_", "postgres_", "mysql_")
DENIED_FUNCTION_SUFFIXES = ("_scan",)

#: Statement kinds that may appear nowhere in a query, with the word a refusal uses.
_DENIED_NODES: tuple[tuple[str, str], ...] = (
    ("DML", "writes (INSERT/UPDATE/DELETE/COPY)"),
    ("DDL", "changes the schema (CREATE/DROP/ALTER)"),
    ("Command", "is a command"),
    ("Pragma", "is a PRAGMA"),
    ("Set", "changes a setting (SET)"),
    ("Attach", "attaches a database (ATTACH)"),
    ("Detach", "detaches a database (DETACH)"),
    ("Install", "installs an extension (INSTALL)"),
    ("Use", "switches database (USE)"),
    ("Into", "writes a table (SELECT … INTO)"),
    ("Lock", "takes locks (FOR UPDATE)"),
    ("Describe", "is not a SELECT (DESCRIBE)"),
    ("Transaction", "controls a transaction"),
    ("Commit", "controls a transaction"),
    ("Rollback", "controls a transaction"),
)


@dataclass(frozen=True)
class SafeSQL:
    """A checked query: the model's text, the SQL that will run (scoped and limited), what it reads."""

    original: str
    sql: str
    relations: tuple[str, ...]
    limit: int


# -- 1–3: the checks ------------------------------------------------------------------------------------


def check_sql(sql: str, known_relations: Iterable[str] = ()) -> exp.Expression:
    """The parsed query if it follows rules 1–3, else ``QueryError`` with the reason. ``known_relations``
    are the names of every table and view the database holds (for rule 3)."""
    tree = _one_select(sql)
    ctes = _cte_names(tree, frozenset(r.lower() for r in known_relations))
    for node in tree.walk():
        _check_node(node, ctes)
    return tree


def _one_select(sql: str) -> exp.Expression:
    if not isinstance(sql, str) or not sql.strip():
        raise QueryError("the SQL is empty; expected one SELECT statement")
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
        statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    except ParseError as exc:
        raise QueryError(f"the SQL does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SELECT statement, got {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise QueryError(f"only a read-only SELECT is allowed; this statement is {_kind(tree)}")
    return tree


def _kind(node: exp.Expression) -> str:
    """The statement's first keyword (DROP, ATTACH, CHECKPOINT …)."""
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    words = node.sql(dialect="duckdb", comments=False).split()
    return words[0].upper() if words else node.key.upper()


def _cte_names(tree: exp.Expression, known: frozenset[str]) -> frozenset[str]:
    names = set()
    for cte in tree.find_all(exp.CTE):
        name = cte.alias_or_name.lower()
        if name in ALLOWED_RELATIONS or name in DENIED_RELATIONS or name in known:
            raise QueryError(f"the CTE {name!r} has the name of a database relation; rename it")
        names.add(name)
    return frozenset(names)


def _check_node(node: exp.Expression, ctes: frozenset[str]) -> None:
    for class_name, what in _DENIED_NODES:
        cls = getattr(exp, class_name, None)
        if cls is not None and isinstance(node, cls):
            raise QueryError(f"only a read-only SELECT is allowed; the SQL {what}")
    if isinstance(node, exp.Table):
        _check_table(node, ctes)
    elif isinstance(node, exp.Func):
        _check_function(node)


def _check_table(table: exp.Table, ctes: frozenset[str]) -> None:
    if not isinstance(table.this, exp.Identifier):
        name = _function_name(table.this) if isinstance(table.this, exp.Func) else table.this.sql("duckdb")
        raise QueryError(f"table function {name}() is not allowed; query the park's tables and views instead")
    name, db, catalog = table.name, table.db, table.catalog
    if catalog or db.lower() not in ("", "main"):
        shown = ".".join(p for p in (catalog, db, name) if p)
        raise QueryError(f"{shown!r} is not a park relation; name the table without a schema")
    lowered = name.lower()
    if lowered in DENIED_RELATIONS:
        raise QueryError(f"{name} is not readable by queries (credentials and audit records)")
    if lowered in ctes and not db:
        return
    if lowered not in ALLOWED_RELATIONS:
        raise QueryError(f"{name!r} is not an allowed relation; expected one of {sorted(ALLOWED_RELATIONS)}")


def _check_function(func: exp.Func) -> None:
    name = _function_name(func)
    if (
        name in DENIED_FUNCTIONS
        or name.startswith(DENIED_FUNCTION_PREFIXES)
        or name.endswith(DENIED_FUNCTION_SUFFIXES)
    ):
        raise QueryError(
            f"function {name}() is not allowed (it reads files, settings or the environment, or changes state)"
        )


def _function_name(func: exp.Expression) -> str:
    if isinstance(func, exp.Anonymous):
        return str(func.this).lower()
    if isinstance(func, exp.Func):
        return func.sql_name().lower()
    return func.key.lower()


# -- the platform's part: scope and limit ---------------------------------------------------------------


def scope_predicates(scope: Any) -> dict[str, Callable[[str], Predicate]]:
    """For each tenant relation, the caller's filter over an alias (parks and regions are public)."""

    def points(a: str) -> Predicate:
        sql, params = scope.points("_p", "_d")
        return (
            f"{a}.point_id IN (SELECT _p.point_id FROM points _p JOIN devices _d "
            f"ON _d.device_id = _p.device_id WHERE {sql})",
            params,
        )

    def devices_of_points(a: str) -> Predicate:
        sql, params = points("_x")
        return f"{a}.device_id IN (SELECT _x.device_id FROM points _x WHERE {sql})", params

    return {
        "enterprises": scope.enterprises,
        "sem_enterprises": scope.enterprises,
        "alerts": scope.alerts,
        "sem_alerts": scope.alerts,
        "buildings": scope.buildings,
        "sem_buildings": scope.buildings,
        "devices": scope.devices,
        "sem_devices": scope.devices,
        "points": points,
        "readings_1d": points,
        "readings_1h": points,
        "readings_15m": points,
        "latest_readings": points,
        "sem_energy_daily": lambda a: scope.points(
            a, a
        ),  # one row per meter point: point_id, park, enterprise
        "sem_aqi_daily": devices_of_points,
    }


def make_safe(sql: str, scope: Any, known_relations: Iterable[str] = (), limit: int | None = None) -> SafeSQL:
    """Check ``sql`` (rules 1–3), put every base relation under ``scope`` and apply the LIMIT."""
    cap = _limit(limit)
    tree = check_sql(sql, known_relations).copy()
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    predicates = scope_predicates(scope)
    relations = set()
    tables = [t for t in tree.find_all(exp.Table) if t.name.lower() not in ctes]
    for i, table in enumerate(tables):
        name = table.name.lower()
        relations.add(name)
        if name in predicates:
            _scope_table(table, name, predicates[name], i)
    tree = _apply_limit(tree, cap)
    return SafeSQL(sql, tree.sql(dialect="duckdb", comments=False), tuple(sorted(relations)), cap)


def _limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit: expected an integer 1..{MAX_LIMIT}; got {limit!r}")
    return limit


def _scope_table(table: exp.Table, name: str, predicate: Callable[[str], Predicate], i: int) -> None:
    inner_alias = f"_pb{i}"
    text, params = predicate(inner_alias)
    if text == "TRUE":
        return
    inner = sqlglot.parse_one(
        f"SELECT * FROM {name} AS {inner_alias} WHERE {_inline(text, params)}", read="duckdb"
    )
    alias = table.args.get("alias")
    alias = alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier(table.name))
    table.replace(exp.Subquery(this=inner, alias=alias))


def _inline(sql: str, params: list[Any]) -> str:
    """The predicate with its ``?`` placeholders replaced by SQL literals (ids from the database)."""
    parts = sql.split("?")
    if len(parts) != len(params) + 1:
        raise QueryError("internal: a scope predicate's placeholders do not match its parameters")
    out = [parts[0]]
    for value, rest in zip(params, parts[1:], strict=True):
        out.append(_literal(value) + rest)
    return "".join(out)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _apply_limit(tree: exp.Expression, cap: int) -> exp.Expression:
    limit = tree.args.get("limit")
    if limit is None:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
        return tree
    value = limit.expression if isinstance(limit, exp.Limit) else None
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
        if int(value.this) > cap:
            limit.set("expression", exp.Literal.number(cap))
        return tree
    inner = exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier("_pb_q")))
    return exp.select("*").from_(inner).limit(cap)


# -- running ------------------------------------------------------------------------------------------------


def relation_names(con: Any) -> list[str]:
    """Every table and view the connection can see (temporary views included), for the CTE rule."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
    ).fetchall()
    return [r[0] for r in rows]


def run_safe_sql(
    con: Any,
    sql: str,
    scope: Any,
    *,
    limit: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[SafeSQL, Any]:
    """Check, scope and limit ``sql`` and run it on ``con`` (the connection holding the ``sem_*`` views)
    read-only with a timeout; returns the ``SafeSQL`` and the rows as an Arrow table."""
    safe = make_safe(sql, scope, relation_names(con), limit)
    return safe, run_readonly_select(con, safe.sql, timeout_s)
