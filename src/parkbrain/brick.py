"""Export a park as a Brick model (https://brickschema.org, Brick 1.5), validated with its shapes.

The park is a ``rec:Site`` and its buildings ``rec:Building`` (``brick:isPartOf`` the site): Brick
1.4 deprecated ``brick:Site``/``brick:Building`` in favour of these RealEstateCore classes, and the
validator warns on the old ones. Devices are instances of the Brick class named in ``devices.kind``
(``brick:hasLocation`` their building, else the site); points are instances of
``points.brick_class`` (``brick:isPointOf`` the device) with a QUDT unit and a
``ref:TimeseriesReference`` whose ``ref:hasTimeseriesId`` is the point id and whose ``ref:storedAt``
is the ParkBrain database node (``pb:database``, which names the API route serving the readings).
Each park's entities live in the namespace ``urn:parkbrain:<park_id>#``.

Device kinds are checked against the ontology: a kind that names a Brick Point class rather than
Equipment (the demo's ``Air_Quality_Sensor`` devices) is exported as the equipment class in
``DEVICE_KIND_ALIASES``; an unknown kind becomes ``brick:Equipment`` and an unknown point class
``brick:Point``, both listed in the warnings.

brickschema is the optional extra ``brick``. The bundled ontology loads offline in about 2 s, once
per process; validating one demo park then takes about 2 s, the whole demo province about 6 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from parkbrain.errors import NotFound, missing_extra

BRICK_VERSION = "1.5"
VOCAB = "urn:parkbrain:vocab#"
#: The API route that serves a point's readings (``ref:storedAt`` of every time series).
READINGS_ROUTE = "/api/points/{point_id}/readings"


@dataclass(frozen=True)
class QudtUnit:
    """A unit as written in ``points.unit`` and its QUDT unit (http://qudt.org/vocab/unit/)."""

    unit: str
    qudt: str
    quantity_prefix: str | None = None  # only for points whose quantity starts with this


#: Units of the park model and their QUDT names (QUDT 2.1 unit vocabulary).
QUDT_UNITS: tuple[QudtUnit, ...] = (
    QudtUnit("kWh", "KiloW-HR"),
    QudtUnit("MWh", "MegaW-HR"),
    QudtUnit("Wh", "W-HR"),
    QudtUnit("kW", "KiloW"),
    QudtUnit("MW", "MegaW"),
    QudtUnit("W", "W"),
    QudtUnit("kvarh", "KiloV-A_Reactive-HR"),
    QudtUnit("kvar", "KiloV-A_Reactive"),
    QudtUnit("A", "A"),
    QudtUnit("V", "V"),
    QudtUnit("kV", "KiloV"),
    QudtUnit("Hz", "HZ"),
    QudtUnit("degC", "DEG_C"),
    QudtUnit("m3", "M3"),
    QudtUnit("m3/h", "M3-PER-HR"),
    QudtUnit("L/min", "L-PER-MIN"),
    QudtUnit("t", "TONNE"),
    QudtUnit("t/h", "TONNE-PER-HR"),
    QudtUnit("kg", "KiloGM"),
    QudtUnit("GJ", "GigaJ"),
    QudtUnit("ug/m3", "MicroGM-PER-M3"),
    QudtUnit("mg/m3", "MilliGM-PER-M3"),
    QudtUnit("ppm", "PPM"),
    QudtUnit("%", "PERCENT"),
    QudtUnit("bar", "BAR"),
    QudtUnit("kPa", "KiloPA"),
    QudtUnit("Pa", "PA"),
    QudtUnit("mm/s", "MilliM-PER-SEC"),
    QudtUnit("g", "G", quantity_prefix="vibration"),  # vibration in standard gravities
    QudtUnit("g0", "G"),
    QudtUnit("gn", "G"),
    QudtUnit("g", "GM"),
    QudtUnit("lx", "LUX"),
    QudtUnit("m", "M"),
    QudtUnit("mm", "MilliM"),
    QudtUnit("m2", "M2"),
)


@dataclass(frozen=True)
class KindAlias:
    """A device kind that names a Brick Point class, and the Equipment class exported for it."""

    kind: str
    equipment: str
    reason: str


DEVICE_KIND_ALIASES: tuple[KindAlias, ...] = (
    KindAlias("Air_Quality_Sensor", "IAQ_Sensor_Equipment", "Brick's Air_Quality_Sensor is a Point"),
    KindAlias("Sensor", "Sensor_Equipment", "Brick's Sensor is a Point"),
    KindAlias("Vibration_Sensor", "Vibration_Sensor_Equipment", "Brick's Vibration_Sensor is a Point"),
    KindAlias("Occupancy_Sensor", "Occupancy_Sensor_Equipment", "Brick's Occupancy_Sensor is a Point"),
)


@dataclass
class BrickExport:
    """A park's Brick graph (instance data only, no ontology) and its validation."""

    graph: Any  # brickschema.Graph
    valid: bool | None  # None when not validated
    report: str
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # load_ontology, build, validate

    def serialize(self, format: str = "turtle") -> str:
        return self.graph.serialize(format=format)

    def write(self, path: str | Path, format: str = "turtle") -> Path:
        """Write the graph to ``path`` (turtle by default; any rdflib format name)."""
        path = Path(path)
        path.write_text(self.serialize(format), encoding="utf-8")
        return path


def export_brick(store: Any, park_id: str | None = None, *, validate: bool = True) -> BrickExport:
    """The Brick model of one park (or of every park when ``park_id`` is None), validated."""
    started = time.perf_counter()
    brick_ontology()
    loaded = time.perf_counter()
    rows = _load(store, park_id)
    builder = _Builder(ontology_classes())
    builder.add_all(rows)
    built = time.perf_counter()
    valid, report = validate_graph(builder.graph) if validate else (None, "")
    seconds = {
        "load_ontology": loaded - started,
        "build": built - loaded,
        "validate": time.perf_counter() - built,
    }
    return BrickExport(builder.graph, valid, report, builder.counts(), builder.warnings, seconds)


def validate_graph(graph: Any) -> tuple[bool, str]:
    """Whether ``graph`` conforms to the Brick shapes, and the validation report text."""
    valid, _results, report = graph.validate(extra_graphs=[brick_ontology()])
    return bool(valid), str(report)


# -- the ontology --------------------------------------------------------------------------------


def _brickschema() -> Any:
    try:
        import brickschema
    except ImportError:
        raise missing_extra("brickschema", "brick") from None
    return brickschema


@cache
def brick_ontology() -> Any:
    """The bundled Brick ontology (loaded once per process; about 2 s, offline), its meter rule fixed."""
    ontology = _brickschema().Graph(load_brick=True, brick_version=BRICK_VERSION)
    fix_meter_subclass_rule(ontology)
    return ontology


def fix_meter_subclass_rule(ontology: Any) -> bool:
    """Repair Brick 1.4/1.5's ``bsh:MeterInferSubclassNonBuildingMeter``; True when it was found.

    The rule gives a meter every class that shares its substance — not only meter classes — so a
    lone ``brick:Water_Meter`` or ``brick:Gas_Meter`` is inferred to be a ``Water_Level_Sensor`` …
    and fails validation as a Point that is also Equipment. Its ``FILTER NOT EXISTS`` also says
    ``rdf:subClassOf`` for ``rdfs:subClassOf``. The fix keeps ``?metertype`` to meter classes.
    """
    from rdflib import Literal
    from rdflib.namespace import SH

    for rule, query in list(ontology.subject_objects(SH.construct)):
        text = str(query)
        if "FILTER NOT EXISTS" not in text or "rdf:subClassOf* brick:Building_Meter" not in text:
            continue
        fixed = text.replace("rdf:subClassOf*", "rdfs:subClassOf*").replace(
            "?metertype brick:hasSubstance ?substance .",
            "?metertype brick:hasSubstance ?substance .\n            ?metertype rdfs:subClassOf+ brick:Meter .",
        )
        ontology.remove((rule, SH.construct, query))
        ontology.add((rule, SH.construct, Literal(fixed)))
        return True
    return False


@dataclass(frozen=True)
class OntologyClasses:
    equipment: frozenset[str]  # local names of brick:Equipment and its subclasses
    points: frozenset[str]  # local names of brick:Point and its subclasses


@cache
def ontology_classes() -> OntologyClasses:
    return OntologyClasses(_subclasses("Equipment"), _subclasses("Point"))


def _subclasses(root: str) -> frozenset[str]:
    from brickschema.namespaces import BRICK
    from rdflib import RDFS

    graph = brick_ontology()
    found = graph.transitive_subjects(RDFS.subClassOf, BRICK[root])
    return frozenset(str(c).removeprefix(str(BRICK)) for c in found if str(c).startswith(str(BRICK)))


def qudt_unit(unit: str | None, quantity: str | None = None) -> str | None:
    """The QUDT local name of a ParkBrain unit (``'kWh'`` → ``'KiloW-HR'``), or None if unknown."""
    for row in QUDT_UNITS:
        if row.unit == unit and (
            row.quantity_prefix is None or (quantity or "").startswith(row.quantity_prefix)
        ):
            return row.qudt
    return None


# -- rows ------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    parks: list[dict[str, Any]]
    buildings: list[dict[str, Any]]
    devices: list[dict[str, Any]]
    points: list[dict[str, Any]]


def _load(store: Any, park_id: str | None) -> _Rows:
    where, params = ("WHERE park_id = ?", [park_id]) if park_id else ("", [])
    parks = store.query_rows(f"SELECT park_id, name, name_en FROM parks {where} ORDER BY park_id", params)
    if park_id and not parks:
        raise NotFound(f"no park {park_id!r}")
    buildings = store.query_rows(
        f"SELECT building_id, park_id, name, floors, area_m2, use FROM buildings {where} ORDER BY building_id",
        params,
    )
    devices = store.query_rows(
        f"SELECT device_id, park_id, building_id, kind, name, vendor, model FROM devices {where} ORDER BY device_id",
        params,
    )
    point_where = "WHERE d.park_id = ?" if park_id else ""
    points = store.query_rows(
        "SELECT p.point_id, p.device_id, d.park_id, p.quantity, p.unit, p.brick_class, p.name "
        f"FROM points p JOIN devices d USING (device_id) {point_where} ORDER BY p.point_id",
        params,
    )
    return _Rows(parks, buildings, devices, points)


# -- the graph -----------------------------------------------------------------------------------


class _Builder:
    """Adds parks, buildings, devices and points to a fresh Brick graph."""

    def __init__(self, classes: OntologyClasses) -> None:
        from brickschema.namespaces import BRICK, QUDT, REC, REF, UNIT
        from rdflib import RDF, RDFS, Literal, Namespace

        self.BRICK, self.REC, self.REF, self.UNIT, self.QUDT = BRICK, REC, REF, UNIT, QUDT
        self.RDF, self.RDFS, self.Literal = RDF, RDFS, Literal
        self.PB = Namespace(VOCAB)
        self.classes = classes
        self.graph = _brickschema().Graph()
        self.graph.bind("brick", BRICK)
        self.graph.bind("rec", REC)
        self.graph.bind("ref", REF)
        self.graph.bind("unit", UNIT)
        self.graph.bind("qudt", QUDT)
        self.graph.bind("pb", self.PB)
        self._parks: dict[str, Any] = {}
        self._buildings: dict[str, Any] = {}
        self._devices: dict[str, Any] = {}
        self._counts = {"sites": 0, "buildings": 0, "devices": 0, "points": 0}
        self.warnings: list[str] = []
        self._unknown: dict[str, set[str]] = {"device kind": set(), "point class": set(), "unit": set()}
        self.database = self.PB.database

    def add_all(self, rows: _Rows) -> None:
        self._add_database()
        for row in rows.parks:
            self._add_park(row)
        for row in rows.buildings:
            self._add_building(row)
        for row in rows.devices:
            self._add_device(row)
        for row in rows.points:
            self._add_point(row)
        self._report_unknown()

    def counts(self) -> dict[str, int]:
        return {**self._counts, "triples": len(self.graph)}

    def _node(self, park_id: str, local: str) -> Any:
        from rdflib import URIRef

        return URIRef(f"urn:parkbrain:{quote(park_id, safe='')}#{quote(local, safe='')}")

    def _label(self, node: Any, name: Any) -> None:
        if name:
            self.graph.add((node, self.RDFS.label, self.Literal(str(name))))

    def _add_database(self) -> None:
        node = self.database
        self.graph.add((node, self.RDF.type, self.PB.Database))
        self.graph.add((node, self.RDFS.label, self.Literal("ParkBrain database")))
        self.graph.add((node, self.PB.readingsRoute, self.Literal(READINGS_ROUTE)))

    def _add_park(self, row: dict[str, Any]) -> None:
        node = self._node(row["park_id"], "site")
        self._parks[row["park_id"]] = node
        self.graph.add((node, self.RDF.type, self.REC.Site))
        self._label(node, row.get("name"))
        self._counts["sites"] += 1

    def _add_building(self, row: dict[str, Any]) -> None:
        node = self._node(row["park_id"], row["building_id"])
        self._buildings[row["building_id"]] = node
        self.graph.add((node, self.RDF.type, self.REC.Building))
        self._label(node, row.get("name"))
        if row["park_id"] in self._parks:
            self.graph.add((node, self.BRICK.isPartOf, self._parks[row["park_id"]]))
        self._counts["buildings"] += 1

    def _add_device(self, row: dict[str, Any]) -> None:
        node = self._node(row["park_id"], row["device_id"])
        self._devices[row["device_id"]] = node
        self.graph.add((node, self.RDF.type, self.BRICK[self._device_class(row["kind"])]))
        self._label(node, row.get("name"))
        location = self._buildings.get(row.get("building_id") or "") or self._parks.get(row["park_id"])
        if location is not None:
            self.graph.add((node, self.BRICK.hasLocation, location))
        self._counts["devices"] += 1

    def _device_class(self, kind: str) -> str:
        if kind in self.classes.equipment:
            return kind
        for alias in DEVICE_KIND_ALIASES:
            if alias.kind == kind:
                return alias.equipment
        self._unknown["device kind"].add(kind)
        return "Equipment"

    def _add_point(self, row: dict[str, Any]) -> None:
        node = self._node(row["park_id"], row["point_id"])
        self.graph.add((node, self.RDF.type, self.BRICK[self._point_class(row.get("brick_class"))]))
        self._label(node, row.get("name"))
        self.graph.add((node, self.BRICK.isPointOf, self._devices[row["device_id"]]))
        unit = qudt_unit(row.get("unit"), row.get("quantity"))
        if unit is None:
            self._unknown["unit"].add(str(row.get("unit")))
        else:
            self.graph.add((node, self.BRICK.hasUnit, self._unit(unit)))
        self._add_timeseries(node, row["point_id"])
        self._counts["points"] += 1

    def _unit(self, name: str) -> Any:
        """The QUDT unit node, declared a ``qudt:Unit`` (the vocabulary itself is not bundled)."""
        node = self.UNIT[name]
        self.graph.add((node, self.RDF.type, self.QUDT.Unit))
        return node

    def _point_class(self, brick_class: str | None) -> str:
        if brick_class in self.classes.points:
            return str(brick_class)
        self._unknown["point class"].add(str(brick_class))
        return "Point"

    def _add_timeseries(self, node: Any, point_id: str) -> None:
        from rdflib import BNode
        from rdflib.namespace import XSD

        ref = BNode()
        self.graph.add((node, self.REF.hasExternalReference, ref))
        self.graph.add((ref, self.RDF.type, self.REF.TimeseriesReference))
        self.graph.add((ref, self.REF.hasTimeseriesId, self.Literal(point_id, datatype=XSD.string)))
        self.graph.add((ref, self.REF.storedAt, self.database))

    def _report_unknown(self) -> None:
        fallback = {
            "device kind": "exported as brick:Equipment",
            "point class": "exported as brick:Point",
            "unit": "points exported without brick:hasUnit",
        }
        for what, names in self._unknown.items():
            if names:
                self.warnings.append(f"unknown {what} {', '.join(sorted(names))}: {fallback[what]}")
