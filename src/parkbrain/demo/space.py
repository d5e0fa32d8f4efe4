"""The demo's data space: a province admin with a random password, and the grants that key energy
users make to their parks (重点用能单位能耗在线监测: such enterprises report their energy use)."""

from __future__ import annotations

from parkbrain.core import Park

ADMIN = "admin"
ENERGY_PURPOSE = "重点用能单位能耗在线监测 (online energy monitoring of key energy users)"


def seed_space(park: Park) -> str:
    """Record the demo's imports, create the demo admin (returns its password, shown once) and the
    key energy users' grants."""
    for source in park.store.query_rows(
        "SELECT source_id, title, license, time_shift FROM sources ORDER BY source_id"
    ):
        rows = park.store.query_rows(
            "SELECT count(*) AS n FROM points p JOIN devices d USING (device_id) WHERE p.data_source = ?",
            [source["source_id"]],
        )[0]["n"]
        park.audit.record(
            None, "import", source["source_id"], actor="system", detail={**source, "points": rows}
        )
    _, password = park.create_user(ADMIN, "province_admin", display_name="演示管理员 Demo admin")
    rows = park.store.query_rows(
        "SELECT e.enterprise_id, e.park_id, list(DISTINCT p.quantity ORDER BY p.quantity) AS quantities "
        "FROM enterprises e JOIN devices d USING (enterprise_id) JOIN points p USING (device_id) "
        "WHERE e.key_energy_user AND p.energy_carrier IS NOT NULL GROUP BY ALL ORDER BY e.enterprise_id"
    )
    for row in rows:
        park.create_grant(
            f"park:{row['park_id']}",
            "metrics",
            row["quantities"],
            ENERGY_PURPOSE,
            "1y",
            enterprise_id=row["enterprise_id"],
        )
    assert password is not None
    return password
