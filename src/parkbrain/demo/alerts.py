"""Alerts found in the demo's own data by simple threshold checks, so the province opens with a
realistic alert list. (The alert rule engine proper works on live data; these are its first results.)

Thresholds and their sources:
- vibration: 7.1 mm/s r.m.s., the zone C/D boundary of ISO 10816-3 for medium machines on rigid
  foundations ("damage may occur");
- PM2.5 daily mean: 75 µg/m³, the class-2 24-hour limit of GB 3095-2012 (industrial parks are
  class-2 zones);
- cumulative registers that go backwards: a meter reset or replacement to be checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parkbrain.store.duckdb import DuckDBStore

VIBRATION_LIMIT_MM_S = 7.1
PM25_DAILY_LIMIT_UG_M3 = 75.0


def derive_alerts(store: DuckDBStore, now: datetime) -> int:
    """Write the alerts found in the data; returns how many."""
    rows: list[dict[str, Any]] = []
    rows += _rows(
        store,
        "vibration_high",
        "critical",
        f"""
        SELECT p.point_id, d.device_id, d.park_id, d.enterprise_id,
               min(r.bucket) AS ts, max(r.max) AS value, any_value(d.name) AS device_name
        FROM readings_1h r JOIN points p USING (point_id) JOIN devices d USING (device_id)
        WHERE p.quantity = 'vibration_rms' AND r.max > {VIBRATION_LIMIT_MM_S}
          AND r.bucket >= ?::TIMESTAMPTZ - INTERVAL 3 DAY
        GROUP BY ALL""",
        [now],
        lambda r: (
            f"{r['device_name']}振动速度 {r['value']:.1f} mm/s，超过 ISO 10816-3 C/D 区界限 "
            f"{VIBRATION_LIMIT_MM_S} mm/s，请安排检修"
        ),
    )
    rows += _rows(
        store,
        "pm2_5_daily_exceedance",
        "warning",
        f"""
        SELECT p.point_id, d.device_id, d.park_id, NULL AS enterprise_id,
               r.bucket AS ts, r.sum / r.n AS value, NULL AS device_name
        FROM readings_1d r JOIN points p USING (point_id) JOIN devices d USING (device_id)
        WHERE p.quantity = 'pm2_5' AND r.n >= 20 AND r.sum / r.n > {PM25_DAILY_LIMIT_UG_M3}
          AND r.bucket >= ?::TIMESTAMPTZ - INTERVAL 14 DAY""",
        [now],
        lambda r: (
            f"PM2.5 日均浓度 {r['value']:.0f} µg/m³，超过 GB 3095-2012 二级浓度限值 "
            f"{PM25_DAILY_LIMIT_UG_M3:.0f} µg/m³"
        ),
    )
    rows += _rows(
        store,
        "meter_register_reset",
        "info",
        """
        SELECT point_id, d.device_id, d.park_id, d.enterprise_id, ts, value, d.name AS device_name
        FROM (SELECT point_id, ts, value, lag(value) OVER (PARTITION BY point_id ORDER BY ts) AS previous
              FROM readings WHERE point_id IN (SELECT point_id FROM points WHERE value_kind = 'cumulative'))
        JOIN points p USING (point_id) JOIN devices d USING (device_id)
        WHERE value < previous""",
        [],
        lambda r: f"{r['device_name']}读数回退（疑似换表或清零），请核对表计",
    )
    for i, row in enumerate(sorted(rows, key=lambda r: r["ts"])):
        row["alert_id"] = f"A{row['ts']:%Y%m%d}-{i + 1:04d}"
        age_days = (now - row["ts"]).total_seconds() / 86400
        row["status"] = "open" if age_days < 2 else "acknowledged" if age_days < 5 else "closed"
    if rows:
        store.write("alerts", rows)
    return len(rows)


def _rows(
    store: DuckDBStore, rule: str, severity: str, sql: str, params: list[Any], message
) -> list[dict[str, Any]]:  # noqa: ANN001
    out = []
    for r in store.query_rows(sql, params):
        out.append(
            {
                "ts": r["ts"],
                "park_id": r["park_id"],
                "enterprise_id": r["enterprise_id"],
                "device_id": r["device_id"],
                "point_id": r["point_id"],
                "rule": rule,
                "severity": severity,
                "message": message(r),
                "value": round(float(r["value"]), 3),
            }
        )
    return out
