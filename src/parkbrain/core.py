"""``Park``: the one object the CLI, the API server and the tests all build."""

from __future__ import annotations

import csv
import io
import json
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from parkbrain.errors import Forbidden, InvalidInput, NotFound, QueryError
from parkbrain.facets import (
    AirFacet,
    AssistantFacet,
    ConsoleFacet,
    EnergyFacet,
    HealthFacet,
    OperationsFacet,
    PolicyFacet,
)
from parkbrain.space import (
    SYSTEM,
    Accounts,
    AuditLog,
    Grants,
    NewToken,
    Principal,
    Scope,
    parse_token_id,
    where,
)
from parkbrain.space.principal import PARK_ROLES
from parkbrain.space.scope import check_import
from parkbrain.store.base import INTERVALS, WriteResult, equal, page

if TYPE_CHECKING:
    from parkbrain.analytics.alert_engine import AlertEngine
    from parkbrain.analytics.quality import QualityReport
    from parkbrain.brick import BrickExport
    from parkbrain.sources.pipeline import ImportResult
from parkbrain.store.duckdb import DuckDBStore

DEFAULT_DB = "parkbrain.duckdb"
EXPORT_DATASETS = ("enterprises", "devices", "points", "alerts", "readings")
_JSON_COLUMNS = {"short_names", "leading_industries"}
Filter = tuple[str, list[Any]]
#: One alert engine per open database, shared by the MQTT pipeline and HTTP pushes (its caches
#: of open alerts and last values must see every reading of a point).
_ALERT_ENGINES: weakref.WeakKeyDictionary[Any, AlertEngine] = weakref.WeakKeyDictionary()
_ALERT_ENGINES_LOCK = threading.Lock()


@dataclass(frozen=True)
class Readings:
    """Rolled-up readings of a point over a window, and how they were chosen."""

    point: dict[str, Any]
    interval: str
    start: datetime
    end: datetime
    table: pa.Table


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int


class Park(EnergyFacet, AirFacet, OperationsFacet, ConsoleFacet, HealthFacet, AssistantFacet, PolicyFacet):
    """A park data space: a province of parks, their enterprises, devices, points and readings.

    ``Park(memory=True)`` is an empty in-memory park (tests); ``Park.open(path)`` opens or creates
    a DuckDB file, upgrading its schema to this version. Opened so, a ``Park`` acts as the local
    ``system`` (the owner of the file). ``park.as_principal(p)`` is a view of the same database
    that sees only what ``p`` may see: every read of tenant data below takes its filter from the
    view's ``Scope`` (``parkbrain.space.scope``), and every read under a sharing grant is audited.
    """

    principal: Principal = SYSTEM
    _scope: Scope | None = None
    _owns_store: bool = True

    def __init__(
        self, path: str | Path | None = None, *, memory: bool = False, read_only: bool = False
    ) -> None:
        if memory and path is not None:
            raise ValueError("give either a path or memory=True, not both")
        if not memory and path is None:
            raise ValueError("give a database path, or memory=True for an in-memory park")
        self.store = DuckDBStore(None if memory else path, read_only=read_only)

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB, *, read_only: bool = False) -> Park:
        """Open (or create) the park database at ``path``."""
        return cls(path, read_only=read_only)

    def as_principal(self, principal: Principal) -> Park:
        """A view of this park for ``principal``: the same database, reads limited to its scope."""
        view = object.__new__(Park)
        view.store = self.store
        view.principal = principal
        view._scope = None
        view._owns_store = False
        return view

    @property
    def scope(self) -> Scope:
        """What this view's principal may read (grants resolved once per view)."""
        if self._scope is None:
            is_system = self.principal is SYSTEM
            self._scope = Scope.system() if is_system else Scope.resolve(self.store, self.principal)
        return self._scope

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.store)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.store)

    def require(self, permission: str) -> None:
        """Raise ``Forbidden`` unless this view's principal has ``permission``."""
        if not self.principal.can(permission):
            raise Forbidden(f"role {self.principal.role} may not {_VERBS.get(permission, permission)}")

    def _require_system(self, what: str) -> None:
        if self.principal is not SYSTEM:
            raise Forbidden(f"{what} is only for the parkbrain command line on the database's machine")

    @property
    def path(self) -> str | None:
        return self.store.path

    def close(self) -> None:
        if self._owns_store:
            from parkbrain.analytics.console_quality import wait_idle

            wait_idle(store=self.store)  # a quality report computing in the background ends first
            self.store.close()

    def __enter__(self) -> Park:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- overview -----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Rows per table, the time span of readings and the schema version."""
        self._require_system("database information")
        tables = [TableInfo(name, self.store.count(name)) for name in self.store.table_names()]
        first, last = self.store.readings_span()
        size = Path(self.path).stat().st_size if self.path and Path(self.path).exists() else None
        return {
            "path": self.path or ":memory:",
            "schema_version": self.store.schema_version(),
            "size_bytes": size,
            "tables": {t.name: t.rows for t in tables},
            "readings_first_ts": first.isoformat() if first else None,
            "readings_last_ts": last.isoformat() if last else None,
        }

    def sql(self, query: str, limit: int | None = None) -> pa.Table:
        """Run a read-only SELECT over the park tables (refused otherwise). Free SQL cannot be
        limited to a tenant's rows, so only the local system may run it."""
        self._require_system("free SQL")
        return self.store.query_readonly(query, limit=limit)

    # -- the public catalogue -----------------------------------------------------------------

    def regions(self, level: str | None = None, geometry: bool = False) -> list[dict[str, Any]]:
        self.require("read")
        cols = "region_code, name, name_en, level, parent_code, area_km2" + (", geometry" if geometry else "")
        where_sql, params = ("WHERE level = ?", [level]) if level else ("", [])
        rows = self.store.query_rows(f"SELECT {cols} FROM regions {where_sql} ORDER BY region_code", params)
        return [_decode(r) for r in rows]

    def parks(self, region_code: str | None = None, boundary: bool = False) -> list[dict[str, Any]]:
        """The public catalogue of parks, with their enterprise counts."""
        self.require("read")
        cols = _park_columns(boundary)
        where_sql, params = ("WHERE p.region_code = ?", [region_code]) if region_code else ("", [])
        rows = self.store.query_rows(
            f"SELECT {cols}, (SELECT count(*) FROM enterprises e WHERE e.park_id = p.park_id) AS enterprises "
            f"FROM parks p {where_sql} ORDER BY p.region_code, p.park_id",
            params,
        )
        return [_decode(r) for r in rows]

    def park(self, park_id: str) -> dict[str, Any]:
        """One park; its operational counts (buildings, devices, open alerts) only for those who run it."""
        self.require("read")
        rows = self.store.query_rows(
            f"""SELECT {_park_columns(True)},
                (SELECT name FROM regions r WHERE r.region_code = p.region_code) AS region_name,
                (SELECT count(*) FROM enterprises e WHERE e.park_id = ?) AS enterprises,
                (SELECT count(*) FROM buildings b WHERE b.park_id = ?) AS buildings,
                (SELECT count(*) FROM devices d WHERE d.park_id = ?) AS devices,
                (SELECT count(*) FROM alerts a WHERE a.park_id = ? AND a.status <> 'closed') AS open_alerts
            FROM parks p WHERE p.park_id = ?""",
            [park_id] * 5,  # constants, not correlated subqueries: a third of the time
        )
        if not rows:
            raise NotFound(f"no park with park_id {park_id!r}")
        row = _decode(rows[0])
        if not self.scope.sees_park(park_id):
            for key in ("buildings", "devices", "open_alerts"):
                row[key] = None
        return row

    # -- tenant data (every query filtered by the scope) ---------------------------------------

    def enterprises(
        self, park_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the enterprises this view may see (optionally of one park) and their total."""
        if park_id is not None:
            self.park(park_id)  # raises NotFound
        self.require("read")
        filters = [self.scope.enterprises("e"), *equal(("e.park_id", park_id))]
        return self._page(
            "SELECT e.* FROM enterprises e", filters, "e.park_id, e.enterprise_id", limit, offset
        )

    def enterprise(self, enterprise_id: str) -> dict[str, Any]:
        self.require("read")
        rows, _ = self._page(
            "SELECT e.* FROM enterprises e",
            [self.scope.enterprises("e"), ("e.enterprise_id = ?", [enterprise_id])],
            "e.enterprise_id",
            1,
            0,
        )
        if not rows:
            raise NotFound(f"no enterprise with enterprise_id {enterprise_id!r}")
        return rows[0]

    def buildings(
        self, park_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        self.require("read")
        filters = [self.scope.buildings("b"), *equal(("b.park_id", park_id))]
        rows, total = self._page(
            "SELECT b.* FROM buildings b", filters, "b.park_id, b.building_id", limit, offset
        )
        return [_decode(r) for r in rows], total

    def devices(
        self,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        self.require("read")
        filters = [
            self.scope.devices("d"),
            *equal(("d.park_id", park_id), ("d.enterprise_id", enterprise_id)),
        ]
        return self._page("SELECT d.* FROM devices d", filters, "d.park_id, d.device_id", limit, offset)

    def points(
        self,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        device_id: str | None = None,
        quantity: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Points this view may read (own, its park's own, or granted); reads under grants are audited."""
        self.require("read")
        filters = [
            self.scope.points("p", "d"),
            *equal(
                ("d.park_id", park_id),
                ("d.enterprise_id", enterprise_id),
                ("p.device_id", device_id),
                ("p.quantity", quantity),
            ),
        ]
        rows, total = self._page(_POINTS_SELECT, filters, "d.park_id, p.point_id", limit, offset)
        self._audit_grant_reads(rows, "points")
        return rows, total

    def point(self, point_id: str) -> dict[str, Any]:
        """One point this view may read; ``NotFound`` for points that do not exist or are not its to see."""
        self.require("read")
        rows, _ = self._page(
            _POINTS_SELECT, [self.scope.points("p", "d"), ("p.point_id = ?", [point_id])], "p.point_id", 1, 0
        )
        if not rows:
            raise NotFound(f"no point with point_id {point_id!r}")
        return rows[0]

    def alerts(
        self,
        park_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        self.require("read")
        filters = [self.scope.alerts("a"), *equal(("a.park_id", park_id), ("a.status", status))]
        return self._page("SELECT a.* FROM alerts a", filters, "a.ts DESC, a.alert_id", limit, offset)

    def _page(
        self, select: str, filters: list[Filter], order: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        return page(self.store, select, filters, order, limit, offset)

    def _audit_grant_reads(self, points: list[dict[str, Any]], what: str) -> None:
        """One ``grant.read`` entry per grant under which any of ``points`` was read."""
        by_grant: dict[str, list[dict[str, Any]]] = {}
        for point in points:
            grant_id = self.scope.grant_for(point)
            if grant_id:
                by_grant.setdefault(grant_id, []).append(point)
        for grant_id, granted in by_grant.items():
            self.audit.record(
                self.principal,
                "grant.read",
                grant_id,
                enterprise_id=granted[0]["enterprise_id"],
                detail={"what": what, "point_ids": [p["point_id"] for p in granted]},
            )

    # -- readings -----------------------------------------------------------------------------

    def readings(
        self,
        point_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        interval: str = "auto",
    ) -> Readings:
        """Rolled-up readings of a point: rows of ts, value (mean), min, max, n, last, delta.

        ``end`` defaults to just after the point's latest reading and ``start`` to 7 days before
        ``end``; ``interval='auto'`` picks 15m up to 2 days, 1h up to 31 days, else 1d.
        """
        point = self.point(point_id)  # raises NotFound, also for points outside the scope
        if end is None:
            latest = self.store.query_rows("SELECT ts FROM latest_readings WHERE point_id = ?", [point_id])
            end = (latest[0]["ts"] if latest else datetime.now().astimezone()) + timedelta(seconds=1)
        if start is None:
            start = end - timedelta(days=7)
        if start >= end:
            raise InvalidInput(f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
        if interval == "auto":
            span = end - start
            interval = "15m" if span <= timedelta(days=2) else "1h" if span <= timedelta(days=31) else "1d"
        if interval not in INTERVALS:
            raise QueryError(f"interval must be auto or one of {', '.join(INTERVALS)}; got {interval!r}")
        table = self.store.readings(point_id, start, end, interval)
        self._audit_grant_reads([point], f"readings {interval} {start.isoformat()}/{end.isoformat()}")
        return Readings(point, interval, start, end, table)

    def write_readings(self, data: Any) -> WriteResult:
        """Store readings (point_id, ts, value); already stored (point_id, ts) pairs are skipped."""
        self.require("telemetry")
        return self.store.write_readings(data)

    def push_telemetry(self, device_id: str, payload: Any) -> WriteResult:
        """Store a telemetry payload ({ts, values} or a list of them) of one device.

        A device token pushes for its own device (or, bound to a park, any device of the park and of
        its enterprise when it has one); park roles for their park's devices; the province for any.
        """
        from parkbrain.sources.telemetry import parse_payload

        self.require("telemetry")
        rows = self.store.query_rows(
            "SELECT park_id, enterprise_id FROM devices WHERE device_id = ?", [device_id]
        )
        if not rows or not _may_push(self.principal, device_id, rows[0]):
            raise NotFound(f"no device with device_id {device_id!r} that this caller may push telemetry for")
        points = self.store.query_rows(
            "SELECT point_id, quantity FROM points WHERE device_id = ?", [device_id]
        )
        rows = parse_payload(payload, points, device_id)
        result = self.store.write_readings(rows)
        if result.inserted:
            self.alert_engine.on_readings(rows)  # the rules on arrival, as for MQTT
        return result

    @property
    def alert_engine(self) -> AlertEngine:
        """The alert rules evaluated on arrival (``analytics.alert_rules``): one engine per database,
        shared by every view of it, the MQTT pipeline and HTTP pushes."""
        from parkbrain.analytics.alert_engine import AlertEngine

        with _ALERT_ENGINES_LOCK:
            engine = _ALERT_ENGINES.get(self.store)
            if engine is None:
                engine = _ALERT_ENGINES[self.store] = AlertEngine(self.store)
            return engine

    # -- exports --------------------------------------------------------------------------------

    def export_csv(self, dataset: str, **filters: Any) -> tuple[str, int]:
        """A dataset as CSV text, limited to this view's scope, and its row count; audited."""
        self.require("export")
        filters = {k: v for k, v in filters.items() if v is not None}
        if dataset == "readings":
            if not filters.get("point_id"):
                raise InvalidInput("point_id: exporting readings needs the point")
            rows = self.readings(**filters).table.to_pylist()
        elif dataset in EXPORT_DATASETS:
            rows, _ = getattr(self, dataset)(**filters, limit=1_000_000, offset=0)
        else:
            raise InvalidInput(f"dataset: expected one of {', '.join(EXPORT_DATASETS)}; got {dataset!r}")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        self.audit.record(self.principal, "export", dataset, detail={"rows": len(rows), "filters": filters})
        return buffer.getvalue(), len(rows)

    # -- the data space: grants, tokens, users, audit -------------------------------------------

    def grants(self, active_only: bool = False) -> list[dict[str, Any]]:
        """Grants this view's principal made or receives (all of them for the province)."""
        self.require("read")
        return Grants(self.store).visible(self.principal, active_only)

    def create_grant(
        self,
        grantee: str,
        kind: str,
        items: list[str],
        purpose: str,
        expires: str | datetime,
        enterprise_id: str | None = None,
    ) -> dict[str, Any]:
        grant = Grants(self.store).create(
            self.principal, grantee, kind, items, purpose, expires, enterprise_id
        )
        detail = {k: grant[k] for k in ("grantee", "kind", "items", "purpose", "expires_at")}
        self.audit.record(
            self.principal,
            "grant.create",
            grant["grant_id"],
            enterprise_id=grant["enterprise_id"],
            detail=detail,
        )
        self._scope = None
        return grant

    def revoke_grant(self, grant_id: str) -> dict[str, Any]:
        grant = Grants(self.store).revoke(self.principal, grant_id)
        self.audit.record(
            self.principal,
            "grant.revoke",
            grant_id,
            enterprise_id=grant["enterprise_id"],
            detail={"grantee": grant["grantee"]},
        )
        self._scope = None
        return grant

    def create_token(
        self,
        role: str,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        device_id: str | None = None,
        org: str | None = None,
        expires: str | datetime | None = None,
        name: str | None = None,
        rate_per_min: int | None = None,
    ) -> NewToken:
        """A new API token (its secret is in the result only). A park admin makes tokens for its own
        park's operators, enterprises, integrators and devices."""
        self._check_manages(role, park_id, enterprise_id, org, device_id)
        user_id = self.principal.id if self.principal.kind == "user" else None
        token = self.accounts.create_token(
            role, park_id, enterprise_id, device_id, org, expires, name, user_id, rate_per_min
        )
        self.audit.record(
            self.principal,
            "token.create",
            token.token_id,
            park_id=token.park_id,
            enterprise_id=token.enterprise_id,
            detail={"role": role, "expires_at": token.expires_at.isoformat(), "name": name},
        )
        return token

    def tokens(self) -> list[dict[str, Any]]:
        self.require("manage_users")
        return self.accounts.tokens(self._managed("t"))

    def revoke_token(self, token_id: str) -> dict[str, Any]:
        token_id = parse_token_id(token_id)
        token = self.accounts.token(token_id)
        own = self.principal.kind == "user" and token.get("user_id") == self.principal.id
        if not own and not (self.principal.can("manage_users") and self._manages_park(token["park_id"])):
            raise NotFound(f"no token with token_id {token_id!r}")
        token = self.accounts.revoke_token(token_id)
        self.audit.record(
            self.principal,
            "token.revoke",
            token_id,
            park_id=token["park_id"],
            enterprise_id=token["enterprise_id"],
        )
        return token

    def create_user(
        self,
        username: str,
        role: str,
        password: str | None = None,
        park_id: str | None = None,
        enterprise_id: str | None = None,
        org: str | None = None,
        display_name: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """A new user; returns it and the generated password (None when ``password`` was given)."""
        self._check_manages(role, park_id, enterprise_id, org, None)
        user, generated = self.accounts.create_user(
            username, role, password, park_id, enterprise_id, org, display_name
        )
        self.audit.record(
            self.principal,
            "user.create",
            username,
            park_id=user["park_id"],
            enterprise_id=user["enterprise_id"],
            detail={"role": role},
        )
        return user, generated

    def users(self) -> list[dict[str, Any]]:
        self.require("manage_users")
        return [u for u in self.accounts.users() if self._manages_park(u["park_id"])]

    def disable_user(self, username: str) -> dict[str, Any]:
        self.require("manage_users")
        user = self.accounts.user(username)
        if not self._manages_park(user["park_id"]):
            raise NotFound(f"no user named {username!r}")
        self.accounts.disable_user(username)
        self.audit.record(self.principal, "user.disable", username, park_id=user["park_id"])
        return {k: v for k, v in user.items() if k != "password_hash"}

    def _managed(self, alias: str) -> Filter:
        return ("TRUE", []) if self.scope.everything else (f"{alias}.park_id = ?", [self.principal.park_id])

    def _manages_park(self, park_id: str | None) -> bool:
        return self.scope.everything or (park_id is not None and park_id == self.principal.park_id)

    def _check_manages(
        self,
        role: str,
        park_id: str | None,
        enterprise_id: str | None,
        org: str | None,
        device_id: str | None,
    ) -> None:
        self.require("manage_users")
        if self.scope.everything:
            return
        if role in ("province_admin", "park_admin"):
            raise Forbidden(f"only the province creates {role} accounts")
        own = self.principal.park_id
        bound_park, _ = self.accounts.check_binding(
            role, park_id or (None if enterprise_id or device_id else own), enterprise_id, org, device_id
        )
        if bound_park != own:
            raise Forbidden(f"a park admin creates accounts for its own park ({self.principal.park_id}) only")

    # -- imports ---------------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        *,
        table: str | None = None,
        mapping: str | Path | dict[str, Any] | None = None,
        crs: str | None = None,
        timezone: str | None = None,
        park_id: str | None = None,
        encoding: str | None = None,
        source: str | None = None,
        display_name: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> ImportResult:
        """Import a file (CSV/TSV, Excel, JSON Lines, GeoJSON, Shapefile, GeoPackage, IFC): all or nothing.

        ``table`` is the canonical table (detected when None), ``mapping`` a mapping file (path or
        parsed dict, see ``parkbrain.sources.mapping``), ``crs`` the coordinates' CRS when the file
        does not say, ``park_id`` the park for rows that do not name one. Importing the same file
        again adds nothing. Recorded in ``imports`` (lineage) and in the audit log.
        """
        from parkbrain.sources.base import ImportOptions
        from parkbrain.sources.mapping import check_mapping, load_mapping
        from parkbrain.sources.pipeline import ingest

        self.require("import")
        park_id = self._own_park(park_id, "imports into")
        if isinstance(mapping, (str, Path)):
            mapping = load_mapping(mapping)
        elif mapping is not None:
            mapping = check_mapping(mapping)
        options = ImportOptions(
            table=table,
            mapping=mapping,
            crs=crs,
            timezone=timezone,
            park_id=park_id,
            encoding=encoding,
            display_name=display_name,
        )
        result = ingest(
            self.store,
            path,
            options,
            self.principal.actor,
            source=source,
            progress=progress,
            allow=lambda tables, display: check_import(self.store, tables, self.principal, display),
        )
        if not result.unchanged:
            self.audit.record(self.principal, "import", result.file_name, detail=result.audit_detail())
        return result

    def imports(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """The imports, newest first (a park role sees its park's)."""
        self.require("import")
        scoped = [("park_id = ?", [self.principal.park_id])] if self.principal.role in PARK_ROLES else []
        clause, params = where(*scoped)
        return self.store.query_rows(
            f"SELECT import_id, file_name, file_sha256, size_bytes, source, target, started_at, finished_at, "
            f"actor, park_id, source_crs, encoding, rows_read, rows_written, duplicates, conflicts "
            f"FROM imports {clause} ORDER BY finished_at DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    def _own_park(self, park_id: str | None, verb: str) -> str | None:
        """The park a park role's request is about: its own (another is refused); any for the province."""
        if self.principal.role not in PARK_ROLES:
            return park_id
        if park_id not in (None, self.principal.park_id):
            raise Forbidden(f"a {self.principal.role} {verb} its own park ({self.principal.park_id}) only")
        return self.principal.park_id

    def quality(self, park_id: str | None = None, now: datetime | None = None) -> QualityReport:
        """The data-quality report of one park (or, for the province, all): scores and offending rows.

        A park role gets its own park's report whatever ``park_id`` it asks for another park: 403.
        """
        from parkbrain.analytics.quality import compute_quality

        self.require("quality")
        return compute_quality(self.store, park_id=self._own_park(park_id, "reads"), now=now)

    def export_brick(self, park_id: str | None = None, validate: bool = True) -> BrickExport:
        """The park's devices and points as a Brick model, validated (province: any park or all;
        park roles: their own park); audited as an export."""
        from parkbrain.brick import export_brick

        self.require("quality")
        park_id = self._own_park(park_id, "exports")
        result = export_brick(self.store, park_id, validate=validate)
        self.audit.record(
            self.principal, "export", "brick", park_id=park_id, detail={"counts": result.counts}
        )
        return result

    # -- telemetry lake and retention ------------------------------------------------------------

    def export_lake(
        self,
        out_dir: str | Path,
        park_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Raw readings to a Parquet lake partitioned by park and month (Hive layout); audited."""
        from parkbrain.model.timeutil import parse_time
        from parkbrain.store.lake import export_lake

        self.require("quality")
        park_id = self._own_park(park_id, "exports")
        start, end = (
            parse_time(t) if isinstance(t, str) else t for t in (start, end)
        )  # ISO text via the server
        result = export_lake(self.store, out_dir, park_id=park_id, start=start, end=end, progress=progress)
        self.audit.record(self.principal, "export", "lake", park_id=park_id, detail={"rows": result.rows})
        return result.as_dict()

    def apply_retention(
        self, keep: dict[str, int | None] | None = None, apply: bool = False
    ) -> list[dict[str, Any]]:
        """Delete readings and rollups past their resolution's retention (``apply=False``: count only)."""
        from dataclasses import asdict

        from parkbrain.model.timeutil import now_utc
        from parkbrain.store.retention import DEFAULT_RETENTION, apply_retention, retention_policies

        self._require_system("retention")
        policies = retention_policies(keep) if keep else DEFAULT_RETENTION
        return [asdict(r) for r in apply_retention(self.store, now_utc(), policies, dry_run=not apply)]

    def audit_entries(
        self, action: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        self.require("audit")
        return self.audit.entries(self.scope.audit("l"), action, limit, offset)

    def verify_audit(self) -> dict[str, Any]:
        self.require("audit")
        return self.audit.verify().as_dict()


#: Points with their device's park and enterprise, and the latest value (``latest_readings``: live data).
_POINTS_SELECT = (
    "SELECT p.*, d.park_id, d.enterprise_id, d.kind AS device_kind, l.ts AS latest_ts, l.value AS latest_value "
    "FROM points p JOIN devices d USING (device_id) LEFT JOIN latest_readings l USING (point_id)"
)

_VERBS = {
    "read": "read park data",
    "manage_users": "manage users and tokens",
    "audit": "read the audit log",
    "telemetry": "push telemetry",
    "export": "export data",
    "grant": "grant data",
    "import": "import files",
    "quality": "read data-quality reports",
    "alerts": "acknowledge or close alerts",
    "operate": "manage maintenance plans and work orders",
    "publish": "publish notices",
}


def _may_push(principal: Principal, device_id: str, device: dict[str, Any]) -> bool:
    if principal.role == "province_admin":
        return True
    if principal.role in PARK_ROLES:
        return device["park_id"] == principal.park_id
    if principal.role != "device":
        return False
    if principal.device_id:
        return principal.device_id == device_id
    if principal.enterprise_id and device["enterprise_id"] != principal.enterprise_id:
        return False
    return device["park_id"] == principal.park_id


def _park_columns(boundary: bool) -> str:
    cols = [
        "park_id",
        "name",
        "name_en",
        "short_names",
        "region_code",
        "level",
        "kind",
        "approved_area_ha",
        "approval_year",
        "leading_industries",
        "lon",
        "lat",
        "data_source",
    ]
    if boundary:
        cols.append("boundary")
    return ", ".join(f"p.{c}" for c in cols)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON text columns into values for the API and Python callers."""
    out = dict(row)
    for key in ("geometry", "boundary", "footprint", *_JSON_COLUMNS):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out
