"""The Brick export: a small hand-made park and one park of the small demo, validated once each."""

from __future__ import annotations

import sys

import pytest

from parkbrain import Park
from parkbrain.errors import NotFound
from tests.conftest import copy_db

brickschema = pytest.importorskip("brickschema")

from brickschema.namespaces import BRICK, REC, REF  # noqa: E402
from rdflib import RDF, Graph, URIRef  # noqa: E402

from parkbrain.brick import (  # noqa: E402
    READINGS_ROUTE,
    brick_ontology,
    export_brick,
    ontology_classes,
    qudt_unit,
)

NS = "urn:parkbrain:p1#"
POINT_REFS = """
SELECT ?point ?id WHERE {
    ?point brick:isPointOf ?device ;
           ref:hasExternalReference ?ref .
    ?ref a ref:TimeseriesReference ;
         ref:hasTimeseriesId ?id ;
         ref:storedAt ?db .
}"""


def _point(point_id: str, device_id: str, quantity: str, unit: str, brick_class: str | None) -> dict:
    return {
        "point_id": point_id,
        "device_id": device_id,
        "quantity": quantity,
        "unit": unit,
        "brick_class": brick_class,
        "value_kind": "instant",
        "name": point_id,
    }


@pytest.fixture(scope="module")
def small():
    with Park(memory=True) as p:
        p.store.write("parks", [{"park_id": "p1", "name": "南宁高新区", "region_code": "450100"}])
        p.store.write("buildings", [{"building_id": "b1", "park_id": "p1", "name": "1号厂房"}])
        p.store.write(
            "devices",
            [
                {
                    "device_id": "em1",
                    "park_id": "p1",
                    "building_id": "b1",
                    "kind": "Building_Electrical_Meter",
                    "name": "总表",
                },
                {"device_id": "wm1", "park_id": "p1", "building_id": "b1", "kind": "Building_Water_Meter"},
                {"device_id": "aqs1", "park_id": "p1", "kind": "Air_Quality_Sensor"},
                {"device_id": "fc1", "park_id": "p1", "kind": "Flux_Capacitor"},
            ],
        )
        p.store.write(
            "points",
            [
                _point("em1.kwh", "em1", "electric_energy", "kWh", "Electric_Energy_Sensor"),
                _point("wm1.m3", "wm1", "water_volume", "m3", "Water_Usage_Sensor"),
                _point("aqs1.pm2_5", "aqs1", "pm2_5", "ug/m3", "PM2.5_Level_Sensor"),
                _point("fc1.x", "fc1", "flux", "furlong", "Flux_Sensor"),
            ],
        )
        yield p, export_brick(p.store, "p1")


def test_small_park_is_valid_brick(small):
    _park, export = small
    assert export.valid, export.report
    assert {k: export.counts[k] for k in ("sites", "buildings", "devices", "points")} == {
        "sites": 1,
        "buildings": 1,
        "devices": 4,
        "points": 4,
    }
    assert set(export.seconds) == {"load_ontology", "build", "validate"}


def test_small_park_classes_and_relations(small):
    _park, export = small
    g = export.graph
    site, building = URIRef(NS + "site"), URIRef(NS + "b1")
    assert (site, RDF.type, REC.Site) in g
    assert (building, RDF.type, REC.Building) in g and (building, BRICK.isPartOf, site) in g
    assert (URIRef(NS + "em1"), RDF.type, BRICK.Building_Electrical_Meter) in g
    assert (URIRef(NS + "em1"), BRICK.hasLocation, building) in g
    assert (URIRef(NS + "aqs1"), BRICK.hasLocation, site) in g  # no building: located at the site
    assert (URIRef(NS + "aqs1"), RDF.type, BRICK.IAQ_Sensor_Equipment) in g  # Air_Quality_Sensor is a Point
    assert (URIRef(NS + "em1.kwh"), BRICK.hasUnit, URIRef("http://qudt.org/vocab/unit/KiloW-HR")) in g


def test_unknown_kinds_fall_back_and_are_reported(small):
    _park, export = small
    assert (URIRef(NS + "fc1"), RDF.type, BRICK.Equipment) in export.graph
    assert (URIRef(NS + "fc1.x"), RDF.type, BRICK.Point) in export.graph
    text = " | ".join(export.warnings)
    assert (
        "device kind Flux_Capacitor" in text and "point class Flux_Sensor" in text and "unit furlong" in text
    )


def test_each_point_references_its_time_series(small):
    _park, export = small
    rows = export.graph.query(POINT_REFS, initNs={"brick": BRICK, "ref": REF})
    assert sorted(str(r.id) for r in rows) == ["aqs1.pm2_5", "em1.kwh", "fc1.x", "wm1.m3"]
    assert READINGS_ROUTE in export.serialize()


def test_write_turtle_round_trips(small, tmp_path):
    _park, export = small
    path = export.write(tmp_path / "park.ttl")
    assert len(Graph().parse(path, format="turtle")) == len(export.graph)


def test_unknown_park_is_not_found(small):
    park, _export = small
    with pytest.raises(NotFound):
        export_brick(park.store, "nowhere", validate=False)


def test_lone_water_and_gas_meters_validate():
    """Brick 1.5's meter-subclass rule, unrepaired, makes these Points as well as Equipment."""
    g = brickschema.Graph()
    for kind in ("Water_Meter", "Building_Gas_Meter"):
        g.add((URIRef(f"urn:x#{kind}"), RDF.type, BRICK[kind]))
    valid, _results, report = g.validate(extra_graphs=[brick_ontology()])
    assert valid, report


def test_qudt_units():
    assert qudt_unit("kWh") == "KiloW-HR"
    assert qudt_unit("g", "vibration_rms_1") == "G"
    assert qudt_unit("g", "mass") == "GM"
    assert qudt_unit("furlong") is None


def test_ifc_device_kinds_are_brick_equipment():
    from parkbrain.sources.ifc.mapping import DEVICE_KINDS

    kinds = {k.brick_class for k in DEVICE_KINDS if k.brick_class}
    assert kinds - ontology_classes().equipment == set()


# -- one park of the small demo -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_park(small_demo_file, tmp_path_factory):
    path = copy_db(small_demo_file, tmp_path_factory.mktemp("brick"))
    with Park.open(path, read_only=True) as p:
        park_id = p.store.query_rows(
            "SELECT park_id FROM devices GROUP BY park_id ORDER BY count(*), park_id LIMIT 1"
        )[0]["park_id"]
        yield p, park_id, export_brick(p.store, park_id)


def test_demo_park_is_valid_and_complete(demo_park):
    park, park_id, export = demo_park
    assert export.valid, export.report
    devices = park.store.query_rows("SELECT count(*) AS n FROM devices WHERE park_id = ?", [park_id])[0]["n"]
    points = park.store.query_rows(
        "SELECT count(*) AS n FROM points JOIN devices USING (device_id) WHERE park_id = ?", [park_id]
    )[0]["n"]
    assert (export.counts["devices"], export.counts["points"]) == (devices, points)
    assert export.counts["sites"] == 1 and devices > 0 and points > 0


def test_demo_points_reference_their_point_ids(demo_park):
    park, park_id, export = demo_park
    ids = {
        r["point_id"]
        for r in park.store.query_rows(
            "SELECT point_id FROM points JOIN devices USING (device_id) WHERE park_id = ?", [park_id]
        )
    }
    rows = export.graph.query(POINT_REFS, initNs={"brick": BRICK, "ref": REF})
    found = {str(r.id): str(r.point) for r in rows}
    assert set(found) == ids
    assert all(uri.endswith("#" + pid) for pid, uri in found.items() if pid.isascii())


def test_missing_brickschema_names_the_extra(monkeypatch):
    from parkbrain.brick import _brickschema
    from parkbrain.errors import ConfigError

    monkeypatch.setitem(sys.modules, "brickschema", None)
    with pytest.raises(ConfigError, match=r"parkbrain\[brick\]"):
        _brickschema()
