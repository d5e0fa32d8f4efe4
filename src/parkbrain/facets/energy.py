"""Park methods for energy and carbon (mixed into ``core.Park``).

Every method reads through the caller's scope: the meter points counted are those ``Scope.points``
lets the caller read (an enterprise its own, a park its own meters and what enterprises granted it),
and reads under grants are audited. Enterprise reports need the enterprise to be visible (else
``NotFound``); park reports and park-level carbon are for the province and the park's own roles.
The computations are in ``analytics/energy*.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parkbrain.errors import Forbidden, InvalidInput, NotFound
from parkbrain.space.principal import PARK_ROLES, Principal

if TYPE_CHECKING:
    from parkbrain.analytics.energy import Accounting, Selection
    from parkbrain.analytics.energy_schedule import ReportSchedule
    from parkbrain.analytics.energy_tou import TouSchedule

REPORT_FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class EnergyFacet:
    """Energy and carbon methods of ``Park``."""

    # -- reference data -------------------------------------------------------------------------

    def energy_factors(self) -> dict[str, Any]:
        """The reference tables (GB/T 2589-2020 coefficients, fuel defaults, electricity factors …)."""
        from parkbrain.analytics.energy_factors import DEFAULT_FACTOR, reference_tables

        self.require("read")
        return {"default_factor": DEFAULT_FACTOR, **reference_tables()}

    # -- consumption and summaries --------------------------------------------------------------

    def energy_summary(
        self,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        grain: str = "month",
        by: tuple[str, ...] | list[str] = ("park",),
        park_id: str | None = None,
        enterprise_id: str | None = None,
        building_id: str | None = None,
        mode: str = "equivalent",
        factor: str | None = None,
    ) -> dict[str, Any]:
        """Consumption, tce and tCO2 per period (day/month/year/total) and dimension (point, enterprise,
        building, park, prefecture, province), with 同比 (``yoy_*``) and 环比 (``mom_*``)."""
        from parkbrain.analytics.energy_summary import compute_energy_summary

        start_t, end_t = _window(start, end)
        selection = self._energy_selection(park_id, enterprise_id, building_id)
        acc = _accounting(mode, factor, start_t)
        result = compute_energy_summary(self.store, selection, start_t, end_t, acc, grain, tuple(by))
        return {
            "start": start_t.isoformat(),
            "end": end_t.isoformat(),
            "grain": grain,
            "by": list(by),
            "mode": mode,
            **result,
        }

    def carbon_parks(
        self,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        factor: str | None = None,
    ) -> list[dict[str, Any]]:
        """Per park the caller runs: tce, tCO2 (scope 1 and 2) and 单位能耗碳排放 against its zero-carbon threshold."""
        from parkbrain.analytics.energy_report import compute_carbon_parks

        start_t, end_t = _window(start, end)
        acc = _accounting("equivalent", factor, start_t)
        parks = self._energy_parks()
        own = None if self.scope.everything else self.principal.park_id
        return compute_carbon_parks(
            self.store, self._energy_selection(own, None, None), parks, start_t, end_t, acc
        )

    # -- reports ----------------------------------------------------------------------------------

    def energy_report(
        self,
        enterprise_id: str | None = None,
        park_id: str | None = None,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        mode: str = "equivalent",
        factor: str | None = None,
        tou: str | None = None,
    ) -> dict[str, Any]:
        """The energy & carbon report of one enterprise or one park (default window: last month)."""
        from parkbrain.analytics.energy_report import compute_energy_report

        if (enterprise_id is None) == (park_id is None):
            raise InvalidInput("energy report: give exactly one of enterprise_id or park_id")
        start_t, end_t = _window(start, end)
        subject = self._report_subject(enterprise_id, park_id)
        selection = self._energy_selection(subject.park_id if park_id else None, enterprise_id, None)
        acc = _accounting(mode, factor, start_t)
        return compute_energy_report(self.store, selection, subject, start_t, end_t, acc, _tou(tou))

    def energy_report_file(self, fmt: str = "xlsx", **kw: Any) -> tuple[bytes, str, str]:
        """The report as a file: (content, file name, media type); ``fmt`` json, csv or xlsx."""
        if fmt not in REPORT_FORMATS:
            raise InvalidInput(f"format: expected one of {', '.join(REPORT_FORMATS)}; got {fmt!r}")
        return _render(self.energy_report(**kw), fmt)

    def energy_reports(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Generated report files the caller may download, newest first."""
        self.require("read")
        clause, params = self._reports_scope()
        return self.store.query_rows(
            f"SELECT * FROM reports r WHERE {clause} ORDER BY created_at DESC, report_id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    def energy_report_download(self, report_id: str) -> tuple[bytes, str, str]:
        """A generated report file: (content, file name, media type); ``NotFound`` if not the caller's."""
        self.require("read")
        clause, params = self._reports_scope()
        rows = self.store.query_rows(
            f"SELECT * FROM reports r WHERE r.report_id = ? AND {clause}", [report_id, *params]
        )
        if not rows:
            raise NotFound(f"no report with report_id {report_id!r}")
        row = rows[0]
        path = self._reports_folder(None) / row["file_name"]
        if not path.is_file():
            raise NotFound(f"report {report_id}: its file {path} is missing")
        return path.read_bytes(), row["file_name"], REPORT_FORMATS[row["format"]]

    def run_scheduled_reports(
        self,
        now: datetime | None = None,
        folder: str | Path | None = None,
        schedule: ReportSchedule | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Write the reports ``schedule`` has due at ``now`` that are not written yet (each in its
        subject's own scope: a park's report sees what the park may see); returns the new rows.
        ``stop()`` is asked between subjects (a server shutting down)."""
        from parkbrain.analytics.energy_schedule import MONTHLY, report_id

        self._require_system("scheduled reports")
        schedule = schedule or MONTHLY
        now = now or datetime.now(timezone.utc)
        due = schedule.due_period(now)
        if due is None:
            return []
        start, end = due
        out_dir = self._reports_folder(folder)
        made: list[dict[str, Any]] = []
        period = _month_label(start)
        for subject in self._scheduled_subjects(schedule):
            if stop is not None and stop():
                break
            todo = {
                fmt: report_id(schedule.name, subject["kind"], subject["id"], period, fmt)
                for fmt in schedule.formats
            }
            done = self.store.query_rows(
                "SELECT report_id FROM reports WHERE list_contains(?, report_id)", [list(todo.values())]
            )
            todo = {f: rid for f, rid in todo.items() if rid not in {d["report_id"] for d in done}}
            if todo:
                made += self._write_reports(todo, subject, start, end, out_dir, schedule.name)
        return made

    # -- alerts -----------------------------------------------------------------------------------

    def evaluate_energy_alerts(
        self,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        park_id: str | None = None,
    ) -> dict[str, Any]:
        """Evaluate the energy-above-baseline rule over ``[start, end)`` (default: last month) into ``alerts``."""
        from parkbrain.analytics.energy_alerts import (
            ENERGY_ABOVE_BASELINE,
            compute_energy_alerts,
            store_energy_alerts,
        )

        self.require("quality")
        park_id = self._own_park(park_id, "evaluates alerts of")
        start_t, end_t = _window(start, end)
        rows = compute_energy_alerts(self.store, self._energy_selection(park_id, None, None), start_t, end_t)
        written = store_energy_alerts(self.store, rows)
        return {"rule": ENERGY_ABOVE_BASELINE.rule, "found": len(rows), "written": written}

    # -- helpers ----------------------------------------------------------------------------------

    def _energy_selection(
        self, park_id: str | None, enterprise_id: str | None, building_id: str | None
    ) -> Selection:
        from parkbrain.analytics.energy import Selection
        from parkbrain.store.base import equal, where

        self.require("read")
        if enterprise_id is not None:
            self.enterprise(enterprise_id)  # NotFound when the caller may not see it
        filters = [
            self.scope.points("p", "d"),
            *equal(
                ("d.park_id", park_id), ("d.enterprise_id", enterprise_id), ("d.building_id", building_id)
            ),
        ]
        clause, params = where(*filters)
        self._audit_energy_grants(clause, params)
        return Selection(clause.removeprefix("WHERE ").strip(), tuple(params))

    def _audit_energy_grants(self, clause: str, params: list[Any]) -> None:
        if self.scope.everything or not self.scope.granted:
            return
        points = self.store.query_rows(
            f"SELECT p.point_id, d.park_id, d.enterprise_id FROM points p JOIN devices d USING (device_id) "
            f"{clause} {'AND' if clause else 'WHERE'} p.energy_carrier IS NOT NULL",
            params,
        )
        self._audit_grant_reads(points, "energy")

    def _report_subject(self, enterprise_id: str | None, park_id: str | None) -> Any:
        from parkbrain.analytics.energy_report import Subject

        if enterprise_id is not None:
            e = self.enterprise(enterprise_id)
            return Subject("enterprise", enterprise_id, e["name"], e["park_id"])
        self._check_park_reader(park_id)
        park = self.park(park_id)
        return Subject("park", park_id, park["name"], park_id)

    def _check_park_reader(self, park_id: str | None) -> None:
        """Park-level energy is for the province and the park's own roles."""
        self.require("read")
        if not self.scope.sees_park(park_id or ""):
            if self.principal.role in PARK_ROLES or self.principal.role == "province_admin":
                raise Forbidden(
                    f"a {self.principal.role} reads the energy of its own park ({self.principal.park_id}) only"
                )
            raise Forbidden(
                f"role {self.principal.role} may not read park-level energy; ask for its enterprise report"
            )

    def _energy_parks(self) -> list[dict[str, Any]]:
        if self.scope.everything:
            return self.store.query_rows("SELECT park_id, name FROM parks ORDER BY park_id")
        if self.principal.role in PARK_ROLES:
            return self.store.query_rows(
                "SELECT park_id, name FROM parks WHERE park_id = ?", [self.principal.park_id]
            )
        raise Forbidden(f"role {self.principal.role} may not read park-level carbon")

    def _reports_scope(self) -> tuple[str, list[Any]]:
        p = self.principal
        if self.scope.everything:
            return "TRUE", []
        if p.role in PARK_ROLES:
            return "r.park_id = ? AND r.enterprise_id IS NULL", [p.park_id]
        if p.role == "enterprise":
            return "r.enterprise_id = ?", [p.enterprise_id]
        return "FALSE", []

    def _reports_folder(self, folder: str | Path | None) -> Path:
        if folder is not None:
            return Path(folder)
        if not self.path:
            raise InvalidInput("reports: an in-memory park has no folder beside its database; pass folder")
        return Path(self.path).resolve().parent / "reports"

    def _scheduled_subjects(self, schedule: ReportSchedule) -> list[dict[str, Any]]:
        subjects = []
        if "park" in schedule.subjects:
            for p in self.store.query_rows("SELECT park_id FROM parks ORDER BY park_id"):
                subjects.append(
                    {"kind": "park", "id": p["park_id"], "park_id": p["park_id"], "enterprise_id": None}
                )
        if "key_energy_user" in schedule.subjects:
            for e in self.store.query_rows(
                "SELECT enterprise_id, park_id FROM enterprises WHERE key_energy_user ORDER BY enterprise_id"
            ):
                subjects.append(
                    {
                        "kind": "enterprise",
                        "id": e["enterprise_id"],
                        "park_id": e["park_id"],
                        "enterprise_id": e["enterprise_id"],
                    }
                )
        return subjects

    def _write_reports(
        self,
        todo: dict[str, str],
        subject: dict[str, Any],
        start: datetime,
        end: datetime,
        out_dir: Path,
        schedule: str,
    ) -> list[dict[str, Any]]:
        """Compute a subject's report once, in its own scope, and write it in each format of ``todo``."""
        viewer = self.as_principal(_subject_principal(subject))
        key = "enterprise_id" if subject["kind"] == "enterprise" else "park_id"
        report = viewer.energy_report(start=start, end=end, **{key: subject["id"]})
        out_dir.mkdir(parents=True, exist_ok=True)
        rows = []
        for fmt, rid in todo.items():
            content, name, _ = _render(report, fmt)
            tmp = out_dir / f".{name}.tmp"
            tmp.write_bytes(content)
            tmp.replace(out_dir / name)
            rows.append(
                {
                    "report_id": rid,
                    "kind": subject["kind"],
                    "subject_id": subject["id"],
                    "park_id": subject["park_id"],
                    "enterprise_id": subject["enterprise_id"],
                    "period": _month_label(start),
                    "start_ts": start,
                    "end_ts": end,
                    "format": fmt,
                    "file_name": name,
                    "size_bytes": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "schedule": schedule,
                    "created_at": datetime.now(timezone.utc),
                    "created_by": self.principal.actor,
                }
            )
        self.store.write("reports", rows, mode="upsert")
        for row in rows:
            detail = {"report_id": row["report_id"], "period": row["period"], "format": row["format"]}
            self.audit.record(
                self.principal,
                "export",
                "energy_report",
                park_id=subject["park_id"],
                enterprise_id=subject["enterprise_id"],
                detail={**detail, "schedule": schedule},
            )
        return rows


def _render(report: dict[str, Any], fmt: str) -> tuple[bytes, str, str]:
    """A computed report as a file of ``fmt``: (content, file name, media type)."""
    import json

    from parkbrain.analytics.energy_report import report_csv, report_xlsx
    from parkbrain.analytics.energy_schedule import file_name

    if fmt == "xlsx":
        content = report_xlsx(report)
    elif fmt == "csv":
        content = report_csv(report).encode("utf-8")
    else:
        content = json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    name = file_name(report["kind"], report["subject"]["id"], report["period"].replace("/", "_"), fmt)
    return content, name, REPORT_FORMATS[fmt]


def _file_op(park: Any, fmt: str = "xlsx", **kw: Any) -> dict[str, Any]:
    """A report file for the command line (through the server too: the content as base64)."""
    import base64

    content, name, media_type = park.energy_report_file(fmt, **kw)
    return {"file_name": name, "media_type": media_type, "content_b64": base64.b64encode(content).decode()}


def _download_op(park: Any, report_id: str) -> dict[str, Any]:
    import base64

    content, name, media_type = park.energy_report_download(report_id)
    return {"file_name": name, "media_type": media_type, "content_b64": base64.b64encode(content).decode()}


#: The energy operations ``parkbrain energy …`` runs on the file or through the server (``localops``).
ENERGY_OPS: dict[str, Callable[..., Any]] = {
    "energy_factors": lambda park: park.energy_factors(),
    "energy_summary": lambda park, **kw: park.energy_summary(**kw),
    "energy_report": lambda park, **kw: park.energy_report(**kw),
    "energy_report_file": _file_op,
    "energy_carbon": lambda park, **kw: park.carbon_parks(**kw),
    "energy_alerts": lambda park, **kw: park.evaluate_energy_alerts(**kw),
    "energy_reports": lambda park, **kw: park.energy_reports(**kw),
    "energy_report_download": _download_op,
    "energy_schedule": lambda park, now=None, **kw: park.run_scheduled_reports(now=_when(now), **kw),
}
ENERGY_WRITES = frozenset({"energy_alerts", "energy_schedule"})


def _when(now: str | datetime | None) -> datetime | None:
    if now is None or isinstance(now, datetime):
        return now
    from parkbrain.model.timeutil import parse_time

    try:
        return parse_time(now, "at")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _subject_principal(subject: dict[str, Any]) -> Principal:
    """The scope a scheduled report is written in: its park's, or its enterprise's."""
    if subject["kind"] == "park":
        return Principal("system", "reports", "scheduled-reports", "park_admin", park_id=subject["park_id"])
    return Principal(
        "system",
        "reports",
        "scheduled-reports",
        "enterprise",
        park_id=subject["park_id"],
        enterprise_id=subject["id"],
    )


def _window(start: str | datetime | None, end: str | datetime | None) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC; by default the last whole month (Asia/Shanghai)."""
    from parkbrain.model.timeutil import PARK_TZ, parse_time

    def parsed(value: str | datetime | None, field: str) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        try:
            return parse_time(value, field)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

    start_t, end_t = parsed(start, "start"), parsed(end, "end")
    if start_t is None and end_t is None:
        this_month = datetime.now(PARK_TZ).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        y, m = divmod(this_month.year * 12 + this_month.month - 2, 12)
        start_t, end_t = this_month.replace(year=y, month=m + 1), this_month
    elif start_t is None or end_t is None:
        raise InvalidInput("start and end: give both, or neither (the last whole month)")
    if end_t <= start_t:
        raise InvalidInput(f"end: {end_t.isoformat()} is not after start {start_t.isoformat()}")
    if start_t.astimezone(PARK_TZ).year < 1971 or end_t.astimezone(PARK_TZ).year > 2200:
        raise InvalidInput("start and end: expected times between 1971 and 2200")
    return start_t.astimezone(timezone.utc), end_t.astimezone(timezone.utc)


def _accounting(mode: str, factor: str | None, start: datetime) -> Accounting:
    from parkbrain.analytics.energy import Accounting
    from parkbrain.analytics.energy_factors import grid_factor
    from parkbrain.model.timeutil import PARK_TZ

    return Accounting(mode=mode, factor=grid_factor(factor), year=start.astimezone(PARK_TZ).year)


def _tou(text: str | None) -> TouSchedule:
    from parkbrain.analytics.energy_tou import GUANGXI_STYLE, TouSchedule

    return TouSchedule.parse(text) if text else GUANGXI_STYLE


def _month_label(start: datetime) -> str:
    from parkbrain.model.timeutil import PARK_TZ

    local = start.astimezone(PARK_TZ)
    return f"{local.year}-{local.month:02d}"
