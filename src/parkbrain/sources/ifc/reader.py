"""Read an IFC (STEP physical file) into plain dataclasses, through IfcOpenShell.

This module knows IFC and IfcOpenShell, nothing of the park model or the database: ``mapping.py``
turns an ``IfcModel`` into canonical rows. Lengths are converted to metres and areas to m² here,
with the project's units (conversion-based ones such as inch included), so nothing downstream
needs to know the file's units.

IfcOpenShell opens a truncated file without complaint (it returns the entities it could parse), so
the file's structure is checked first: it must start with ``ISO-10303-21;``, have a ``DATA;``
section and end with ``ENDSEC;`` and ``END-ISO-10303-21;``. Parse errors IfcOpenShell logs (an
unknown entity, a reference to a missing instance) are refused with the line they occur on.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parkbrain.errors import BadFile, missing_extra

MAGIC = b"ISO-10303-21;"
TRAILER = b"END-ISO-10303-21;"
_BOM = b"\xef\xbb\xbf"
_DATA_SECTION = re.compile(rb"(?m)^[ \t]*DATA[ \t]*(\([^;]*\))?[ \t]*;")
_LOG_LINE = re.compile(r"^\[(error|warning)\](?: \[[^\]]*\])* (.*)$")
_OFFSET = re.compile(r" at offset (\d+)$")
_TOO_MANY = re.compile(r"Expected \d+ attribute values, found \d+ for instance #(\d+)")
#: Element classes read as devices (each with its subclasses).
DEVICE_CLASSES = ("IfcDistributionElement", "IfcBuildingElementProxy")
_STRUCTURE = "ISO-10303-21; HEADER; … ENDSEC; DATA; … ENDSEC; END-ISO-10303-21;"


@dataclass(frozen=True)
class IfcStorey:
    guid: str
    name: str | None
    elevation_m: float | None  # relative to the building, metres


@dataclass(frozen=True)
class IfcSpace:
    guid: str
    name: str | None
    storey_guid: str | None
    area_m2: float | None  # gross (else net) floor area from quantities or Pset_SpaceCommon


@dataclass(frozen=True)
class IfcBuilding:
    guid: str
    name: str | None
    site_guid: str | None
    origin_m: tuple[float, float, float]  # placement origin in project coordinates, metres
    storeys: tuple[IfcStorey, ...]
    spaces: tuple[IfcSpace, ...]
    area_m2: float | None  # the building's own gross floor area, when the file states it


@dataclass(frozen=True)
class IfcSite:
    guid: str
    name: str | None
    ref_latitude: tuple[int, ...] | None  # IfcCompoundPlaneAngleMeasure: deg, min, s, millionths of s
    ref_longitude: tuple[int, ...] | None
    ref_elevation_m: float | None


@dataclass(frozen=True)
class MapConversion:
    """IfcMapConversion with its target IfcProjectedCRS (the file's georeference)."""

    crs_name: str  # IfcProjectedCRS.Name, e.g. 'EPSG:25832'
    eastings: float  # in map units
    northings: float
    orthogonal_height: float
    x_axis_abscissa: float
    x_axis_ordinate: float
    scale: float | None  # as written (None when omitted): map units per project length unit
    map_unit_m: float  # metres per map unit (1.0 when the CRS names none)
    geodetic_datum: str | None = None


@dataclass(frozen=True)
class IfcElement:
    guid: str
    ifc_class: str
    ancestry: tuple[str, ...]  # ifc_class, then its supertypes up to IfcElement
    name: str | None
    predefined_type: str | None  # of the occurrence, else of its type object
    type_class: str | None  # the type object's class, e.g. 'IfcAirTerminalType'
    type_name: str | None
    building_guid: str | None
    storey_guid: str | None
    position_m: tuple[float, float, float] | None  # placement origin in project coordinates, metres
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)  # property sets, simple values


@dataclass(frozen=True)
class IfcModel:
    file: str  # the name errors and notes use
    schema: str
    project_name: str | None
    length_unit: str  # e.g. 'metre', 'millimetre', 'inch'
    length_unit_m: float  # metres per project length unit
    sites: tuple[IfcSite, ...]
    buildings: tuple[IfcBuilding, ...]
    elements: tuple[IfcElement, ...]
    map_conversion: MapConversion | None
    warnings: tuple[str, ...] = ()  # what IfcOpenShell logged as warnings while parsing


def read_ifc(path: Path, display: str | None = None) -> IfcModel:
    """Open and walk an IFC file; ``BadFile`` when it is not IFC, truncated or corrupt."""
    display = display or path.name
    check_structure(path, display)
    model, log = _open(path, display)
    _refuse_logged_errors(path, display, log)
    try:
        return _walk(model, display, tuple(logged(log, "warning")))
    except BadFile:
        raise
    except Exception as exc:  # IfcOpenShell raises many kinds on inconsistent content
        raise BadFile(
            display, f"the IFC content is inconsistent: {exc}", expected="a valid IFC model"
        ) from None


# -- the file's structure ---------------------------------------------------------------------


def check_structure(path: Path, display: str) -> None:
    """Refuse files that are not STEP, or that lack the DATA section or the trailer (truncated)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        size = fh.seek(0, 2)
        if size == 0:
            raise BadFile(display, "the file is empty", expected=_STRUCTURE)
        fh.seek(max(0, size - 4096))
        tail = fh.read().rstrip()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            has_data = _DATA_SECTION.search(mm) is not None
    if not head.removeprefix(_BOM).lstrip().startswith(MAGIC):
        raise BadFile(
            display,
            _not_step(head),
            line=1,
            expected="an IFC file in STEP format starting with ISO-10303-21;",
        )
    if not tail.endswith(TRAILER):
        raise BadFile(
            display,
            "the file ends without END-ISO-10303-21;: it is truncated or not an IFC file",
            line=count_lines(path),
            expected=_STRUCTURE,
        )
    if not tail[: -len(TRAILER)].rstrip().endswith(b"ENDSEC;"):
        raise BadFile(
            display,
            "the DATA section is not closed by ENDSEC;: the file is damaged",
            line=count_lines(path),
            expected=_STRUCTURE,
        )
    if not has_data:
        raise BadFile(display, "the file has no DATA; section", expected=_STRUCTURE)


def _not_step(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "this is a zip archive (.ifczip?), not an IFC STEP file; unzip it first"
    if head.lstrip().startswith(b"<"):
        return "this is XML (ifcXML?), not an IFC STEP file"
    return "this is not an IFC file"


def count_lines(path: Path, upto: int | None = None) -> int:
    """The 1-based number of the line holding byte ``upto``, or of the file's last line."""
    newlines, read, last = 0, 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if upto is not None and read + len(chunk) > upto:
                return newlines + chunk[: upto - read].count(b"\n") + 1
            newlines, read, last = newlines + chunk.count(b"\n"), read + len(chunk), chunk[-1:]
    return newlines + (0 if last == b"\n" else 1)


# -- IfcOpenShell ---------------------------------------------------------------------------------


def _ifcopenshell() -> Any:
    try:
        import ifcopenshell
    except ImportError:
        raise missing_extra("ifcopenshell", "bim") from None
    return ifcopenshell


def _open(path: Path, display: str) -> tuple[Any, str]:
    """The opened file and what IfcOpenShell logged while parsing it."""
    ifcopenshell = _ifcopenshell()
    ifcopenshell.get_log()  # reading the log empties it (the log is per process, not per file)
    try:
        model = ifcopenshell.open(str(path))
    except ifcopenshell.SchemaError as exc:
        raise BadFile(
            display,
            f"IfcOpenShell does not know this file's schema ({exc})",
            field="FILE_SCHEMA",
            expected="IFC2X3, IFC4 or IFC4X3",
        ) from None
    except (ifcopenshell.Error, RuntimeError, OSError) as exc:
        raise BadFile(display, f"IfcOpenShell cannot parse the file: {exc}", expected=_STRUCTURE) from None
    return model, ifcopenshell.get_log()


def logged(log: str, level: str) -> list[str]:
    """The messages of one level (``error``, ``warning``) in IfcOpenShell's log text."""
    return [m.group(2) for m in map(_LOG_LINE.match, log.splitlines()) if m and m.group(1) == level]


def _refuse_logged_errors(path: Path, display: str, log: str) -> None:
    errors = logged(log, "error")
    if not errors:
        return
    first = errors[0]
    offset = _OFFSET.search(first)
    line = count_lines(path, int(offset.group(1))) if offset else None
    problem = _OFFSET.sub("", first)
    if "'ENDSEC' not found" in problem:  # the parser ran on to ENDSEC inside an unclosed instance
        problem = "an entity instance is not closed (a missing ')', quote or ';')"
        line = _unclosed_instance_line(path, logged(log, "warning")) or line
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    raise BadFile(
        display,
        f"the IFC data is corrupt: {problem}{more}",
        line=line,
        expected="entities of the file's schema whose references all exist",
    )


def _unclosed_instance_line(path: Path, warnings: list[str]) -> int | None:
    """The line of the instance IfcOpenShell found too many attribute values in, if it says."""
    for warning in warnings:
        if match := _TOO_MANY.search(warning):
            start = re.compile(rb"^\s*#" + match.group(1).encode() + rb"\s*=")
            with open(path, "rb") as fh:
                for number, text in enumerate(fh, start=1):
                    if start.match(text):
                        return number
    return None


def _walk(model: Any, display: str, warnings: tuple[str, ...]) -> IfcModel:
    from ifcopenshell.util.unit import calculate_unit_scale

    length_m = float(calculate_unit_scale(model, "LENGTHUNIT"))
    area_m2 = float(calculate_unit_scale(model, "AREAUNIT"))
    units = _Units(length_m, area_m2)
    projects = model.by_type("IfcProject")
    return IfcModel(
        file=display,
        schema=model.schema,
        project_name=projects[0].Name if projects else None,
        length_unit=_length_unit_name(projects[0] if projects else None),
        length_unit_m=length_m,
        sites=tuple(_site(s, units) for s in model.by_type("IfcSite")),
        buildings=tuple(_building(b, units) for b in model.by_type("IfcBuilding")),
        elements=tuple(_element(e, units) for e in _device_elements(model)),
        map_conversion=_map_conversion(model),
        warnings=warnings,
    )


@dataclass(frozen=True)
class _Units:
    length_m: float
    area_m2: float


def _length_unit_name(project: Any) -> str:
    for unit in getattr(getattr(project, "UnitsInContext", None), "Units", None) or ():
        if getattr(unit, "UnitType", None) != "LENGTHUNIT":
            continue
        if unit.is_a("IfcSIUnit"):
            return (unit.Prefix or "").lower() + unit.Name.lower()
        return str(getattr(unit, "Name", None) or "unnamed unit").lower()
    return "metre"


def _site(site: Any, units: _Units) -> IfcSite:
    elevation = site.RefElevation
    return IfcSite(
        guid=site.GlobalId,
        name=site.Name,
        ref_latitude=tuple(site.RefLatitude) if site.RefLatitude else None,
        ref_longitude=tuple(site.RefLongitude) if site.RefLongitude else None,
        ref_elevation_m=None if elevation is None else float(elevation) * units.length_m,
    )


def _building(building: Any, units: _Units) -> IfcBuilding:
    import ifcopenshell.util.element as util

    storeys = [o for o in _parts(building) if o.is_a("IfcBuildingStorey")]
    site = util.get_aggregate(building)
    return IfcBuilding(
        guid=building.GlobalId,
        name=building.Name or building.LongName,
        site_guid=site.GlobalId if site is not None and site.is_a("IfcSite") else None,
        origin_m=_position(building, units) or (0.0, 0.0, 0.0),
        storeys=tuple(_storey(s, units) for s in storeys),
        spaces=tuple(_space(s, units) for s in _all_spaces(building)),
        area_m2=_area(building, units, ("GrossFloorArea",), ("GrossPlannedArea",)),
    )


def _parts(obj: Any) -> list[Any]:
    """The objects ``obj`` aggregates (IfcRelAggregates)."""
    return [o for rel in getattr(obj, "IsDecomposedBy", ()) or () for o in rel.RelatedObjects]


def _all_spaces(building: Any) -> list[Any]:
    found, todo = [], _parts(building)
    while todo:
        obj = todo.pop(0)
        if obj.is_a("IfcSpace"):
            found.append(obj)
        todo.extend(_parts(obj))
    return found


def _storey(storey: Any, units: _Units) -> IfcStorey:
    elevation = storey.Elevation
    if elevation is None and storey.ObjectPlacement is not None:
        elevation = _position(storey, units, scaled=False)[2]
    return IfcStorey(
        guid=storey.GlobalId,
        name=storey.Name or storey.LongName,
        elevation_m=None if elevation is None else float(elevation) * units.length_m,
    )


def _space(space: Any, units: _Units) -> IfcSpace:
    import ifcopenshell.util.element as util

    storey = util.get_container(space, ifc_class="IfcBuildingStorey") or util.get_aggregate(space)
    return IfcSpace(
        guid=space.GlobalId,
        name=space.LongName or space.Name,
        storey_guid=storey.GlobalId if storey is not None and storey.is_a("IfcBuildingStorey") else None,
        area_m2=_area(
            space, units, ("GrossFloorArea", "NetFloorArea"), ("GrossPlannedArea", "NetPlannedArea")
        ),
    )


def _area(obj: Any, units: _Units, quantities: tuple[str, ...], planned: tuple[str, ...]) -> float | None:
    """An area from the object's quantity sets (preferred) or its Pset_*Common, in m²."""
    import ifcopenshell.util.element as util

    qtos = util.get_psets(obj, qtos_only=True)
    psets = util.get_psets(obj, psets_only=True)
    candidates = [q.get(name) for name in quantities for q in qtos.values()]
    candidates += [p.get(name) for name in planned for key, p in psets.items() if key.endswith("Common")]
    for value in candidates:
        if isinstance(value, (int, float)) and value > 0:
            return float(value) * units.area_m2
    return None


def _device_elements(model: Any) -> list[Any]:
    seen: dict[int, Any] = {}
    for cls in DEVICE_CLASSES:
        for element in model.by_type(cls):
            seen.setdefault(element.id(), element)
    return list(seen.values())


def _element(element: Any, units: _Units) -> IfcElement:
    import ifcopenshell.util.element as util

    type_obj = util.get_type(element)
    building = util.get_container(element, ifc_class="IfcBuilding")
    storey = util.get_container(element, ifc_class="IfcBuildingStorey")
    return IfcElement(
        guid=element.GlobalId,
        ifc_class=element.is_a(),
        ancestry=_ancestry(element),
        name=element.Name,
        predefined_type=_predefined(element, type_obj),
        type_class=type_obj.is_a() if type_obj is not None else None,
        type_name=type_obj.Name if type_obj is not None else None,
        building_guid=building.GlobalId if building is not None else None,
        storey_guid=storey.GlobalId if storey is not None else None,
        position_m=_position(element, units),
        properties=_simple_properties(util.get_psets(element, psets_only=True)),
    )


def _ancestry(element: Any) -> tuple[str, ...]:
    import ifcopenshell.ifcopenshell_wrapper as wrapper

    schema = wrapper.schema_by_name(element.file.schema_identifier)
    declaration = schema.declaration_by_name(element.is_a())
    names = []
    while declaration is not None and declaration.name() != "IfcProduct":
        names.append(declaration.name())
        declaration = declaration.supertype()
    return tuple(names)


def _predefined(element: Any, type_obj: Any) -> str | None:
    for obj in (element, type_obj):
        value = getattr(obj, "PredefinedType", None) if obj is not None else None
        if value and value not in ("NOTDEFINED", "USERDEFINED"):
            return str(value)
    return None


def _position(product: Any, units: _Units, scaled: bool = True) -> tuple[float, float, float] | None:
    import ifcopenshell.util.placement as placement

    if getattr(product, "ObjectPlacement", None) is None:
        return None
    matrix = placement.get_local_placement(product.ObjectPlacement)
    factor = units.length_m if scaled else 1.0
    x, y, z = (float(v) * factor for v in matrix[:3, 3])
    return (x, y, z)


def _simple_properties(psets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Property sets with only their plain values (text, numbers, booleans, lists of those)."""
    simple: dict[str, dict[str, Any]] = {}
    for pset, props in psets.items():
        values = {k: v for k, v in props.items() if k != "id" and _is_simple(v)}
        if values:
            simple[pset] = values
    return simple


def _is_simple(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, (str, int, float, bool)) for v in value)
    return isinstance(value, (str, int, float, bool))


def _map_conversion(model: Any) -> MapConversion | None:
    if model.schema == "IFC2X3":
        return None  # IFC2X3 georeferencing lives in ePSet_MapConversion; not read
    conversions = [c for c in model.by_type("IfcCoordinateOperation") if c.is_a("IfcMapConversion")]
    if not conversions:
        return None
    conv = conversions[0]
    crs = conv.TargetCRS
    return MapConversion(
        crs_name=str(crs.Name),
        eastings=float(conv.Eastings),
        northings=float(conv.Northings),
        orthogonal_height=float(conv.OrthogonalHeight or 0.0),
        x_axis_abscissa=float(conv.XAxisAbscissa if conv.XAxisAbscissa is not None else 1.0),
        x_axis_ordinate=float(conv.XAxisOrdinate or 0.0),
        scale=None if conv.Scale is None else float(conv.Scale),
        map_unit_m=_map_unit_m(getattr(crs, "MapUnit", None)),
        geodetic_datum=getattr(crs, "GeodeticDatum", None),
    )


def _map_unit_m(unit: Any) -> float:
    if unit is None:
        return 1.0
    from ifcopenshell.util.unit import get_unit_scale

    return float(get_unit_scale(unit))
