"""Turn an ``IfcModel`` (see ``reader.py``) into rows of the canonical ``buildings`` and ``devices``.

- An IfcBuilding becomes a building: ``floors`` counts its storeys at or above ground (elevation
  ≥ −1 m, so a ground floor drawn a few millimetres low still counts), ``area_m2`` is the gross
  floor area the building states, else the sum of its spaces' areas. Its longitude/latitude come
  from the file's IfcMapConversion (the building's origin placed in the projected CRS, then converted
  to WGS84), else from the IfcSite's RefLatitude/RefLongitude (WGS84 by definition); ``source_crs``
  says which.
- A distribution element (IfcAirTerminal, IfcPump, IfcSensor …) or IfcBuildingElementProxy becomes a
  device whose ``kind`` is a Brick 1.5 class chosen by ``DEVICE_KINDS``. Segments and fittings (ducts,
  pipes, cable carriers) are not devices: a real model has thousands and Brick has no class for them.

IDs are stable across imports of the same model: ``<park_id>-ifc-<GlobalId>``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from parkbrain.sources.ifc.reader import IfcBuilding, IfcElement, IfcModel, IfcSite, MapConversion

#: Storeys at or above this elevation (metres, relative to the building) count as floors.
GROUND_TOLERANCE_M = -1.0
#: The IfcSite reference point and the map conversion should agree; a note is made beyond this.
GEOREF_MISMATCH_M = 1000.0
WGS84 = "WGS84"


@dataclass(frozen=True)
class DeviceKind:
    """An IFC class (optionally with a PredefinedType) and the Brick class of its devices.

    ``brick_class`` None means the class is not a device (skipped). Classes: IFC4 ADD2 TC1;
    Brick classes: Brick 1.5 (https://brickschema.org/ontology/1.5).
    """

    ifc_class: str
    brick_class: str | None
    predefined_type: str | None = None


DEVICE_KINDS: tuple[DeviceKind, ...] = (
    # HVAC
    DeviceKind("IfcAirTerminal", "Air_Diffuser"),
    DeviceKind("IfcAirTerminalBox", "Terminal_Unit"),
    DeviceKind("IfcAirToAirHeatRecovery", "Heat_Exchanger"),
    DeviceKind("IfcBoiler", "Boiler"),
    DeviceKind("IfcChiller", "Chiller"),
    DeviceKind("IfcCoil", "Coil"),
    DeviceKind("IfcCompressor", "Compressor"),
    DeviceKind("IfcCooledBeam", "Chilled_Beam"),
    DeviceKind("IfcCoolingTower", "Cooling_Tower"),
    DeviceKind("IfcDamper", "Damper"),
    DeviceKind("IfcFan", "Fan"),
    DeviceKind("IfcFilter", "Filter"),
    DeviceKind("IfcHeatExchanger", "Heat_Exchanger"),
    DeviceKind("IfcHumidifier", "Humidifier"),
    DeviceKind("IfcPump", "Pump"),
    DeviceKind("IfcSpaceHeater", "Radiator"),
    DeviceKind("IfcTank", "Tank"),
    DeviceKind("IfcUnitaryEquipment", "Air_Handling_Unit", "AIRHANDLER"),
    DeviceKind("IfcUnitaryEquipment", "HVAC_Equipment"),
    DeviceKind("IfcValve", "Valve"),
    # meters and sensors
    DeviceKind("IfcFlowMeter", "Gas_Meter", "GASMETER"),
    DeviceKind("IfcFlowMeter", "Water_Meter", "WATERMETER"),
    DeviceKind("IfcFlowMeter", "Meter"),
    DeviceKind("IfcSensor", "IAQ_Sensor_Equipment", "CO2SENSOR"),
    DeviceKind("IfcSensor", "Occupancy_Sensor_Equipment", "MOVEMENTSENSOR"),
    DeviceKind("IfcSensor", "Daylight_Sensor_Equipment", "LIGHTSENSOR"),
    DeviceKind("IfcSensor", "Sensor_Equipment"),
    DeviceKind("IfcController", "Controller"),
    # electrical
    DeviceKind("IfcElectricMotor", "Motor"),
    DeviceKind("IfcTransformer", "Transformer"),
    DeviceKind("IfcElectricDistributionBoard", "Electrical_Equipment"),
    DeviceKind("IfcElectricFlowStorageDevice", "Battery", "BATTERY"),
    DeviceKind("IfcElectricFlowStorageDevice", "Electrical_Equipment"),
    DeviceKind("IfcSolarDevice", "PV_Panel", "SOLARPANEL"),
    DeviceKind("IfcSolarDevice", "Solar_Thermal_Collector", "SOLARCOLLECTOR"),
    DeviceKind("IfcLamp", "Luminaire"),
    DeviceKind("IfcLightFixture", "Luminaire"),
    # not devices: distribution network parts and sanitary fixtures
    DeviceKind("IfcFlowSegment", None),
    DeviceKind("IfcFlowFitting", None),
    DeviceKind("IfcDistributionChamberElement", None),
    DeviceKind("IfcSanitaryTerminal", None),
    DeviceKind("IfcWasteTerminal", None),
    DeviceKind("IfcStackTerminal", None),
    # anything else
    DeviceKind("IfcBuildingElementProxy", "Equipment"),
    DeviceKind("IfcDistributionElement", "Equipment"),
)
_KINDS = {(k.ifc_class, k.predefined_type): k.brick_class for k in DEVICE_KINDS}


@dataclass(frozen=True)
class Georeference:
    lon: float
    lat: float
    source_crs: str  # the CRS the position was converted from ('WGS84' for IfcSite references)
    method: str  # 'IfcMapConversion' or 'IfcSite'


@dataclass
class MappedModel:
    buildings: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    source_crs: str | None = None
    notes: list[str] = field(default_factory=list)


def map_model(model: IfcModel, park_id: str) -> MappedModel:
    """Canonical rows for the buildings and devices of ``model``, in park ``park_id``."""
    mapped = MappedModel()
    for building in model.buildings:
        mapped.buildings.append(building_row(model, building, park_id, mapped))
    mapped.devices, skipped = device_rows(model, park_id)
    if skipped:
        listed = ", ".join(f"{n} {cls}" for cls, n in sorted(skipped.items()))
        mapped.notes.append(f"not imported as devices (network parts and fixtures): {listed}")
    mapped.notes.extend(f"IfcOpenShell warned: {w}" for w in model.warnings[:5])
    outside = sum(1 for d in mapped.devices if d["building_id"] is None)
    if outside:
        mapped.notes.append(f"{outside} devices are not in any IfcBuilding (building_id left empty)")
    return mapped


# -- buildings -------------------------------------------------------------------------------------


def ifc_id(park_id: str, guid: str) -> str:
    """The stable id of an imported IFC object."""
    return f"{park_id}-ifc-{guid}"


def building_row(model: IfcModel, building: IfcBuilding, park_id: str, mapped: MappedModel) -> dict[str, Any]:
    georef = georeference(model, building, mapped.notes)
    if georef is not None:
        mapped.source_crs = mapped.source_crs or georef.source_crs
    return {
        "building_id": ifc_id(park_id, building.guid),
        "park_id": park_id,
        "name": building.name or model.project_name or building.guid,
        "floors": floors_above_ground(building),
        "area_m2": floor_area_m2(building),
        "ifc_guid": building.guid,
        "lon": None if georef is None else round(georef.lon, 7),
        "lat": None if georef is None else round(georef.lat, 7),
        "source_crs": None if georef is None else georef.source_crs,
    }


def floors_above_ground(building: IfcBuilding) -> int | None:
    """Storeys at or above ground; None when the model has no storeys."""
    if not building.storeys:
        return None
    return sum(1 for s in building.storeys if s.elevation_m is None or s.elevation_m >= GROUND_TOLERANCE_M)


def floor_area_m2(building: IfcBuilding) -> float | None:
    """The building's stated gross floor area, else the sum of its spaces' areas (m²)."""
    if building.area_m2 is not None:
        return round(building.area_m2, 2)
    areas = [s.area_m2 for s in building.spaces if s.area_m2 is not None]
    return round(sum(areas), 2) if areas else None


# -- georeference ------------------------------------------------------------------------------------


def georeference(model: IfcModel, building: IfcBuilding, notes: list[str]) -> Georeference | None:
    """The building's WGS84 position: map conversion first, the site's reference point second."""
    site = _site_of(model, building)
    from_site = site_position(site) if site is not None else None
    from_map = _map_position(model, building, notes)
    if from_map is not None and from_site is not None:
        apart = distance_m(from_map.lon, from_map.lat, from_site.lon, from_site.lat)
        if apart > GEOREF_MISMATCH_M:
            notes.append(
                f"building {building.guid}: IfcSite RefLatitude/RefLongitude lies {apart / 1000:.1f} km from "
                f"the IfcMapConversion position; the map conversion is used"
            )
    return from_map or from_site


def _site_of(model: IfcModel, building: IfcBuilding) -> IfcSite | None:
    for site in model.sites:
        if site.guid == building.site_guid:
            return site
    return model.sites[0] if len(model.sites) == 1 else None


def site_position(site: IfcSite) -> Georeference | None:
    if not site.ref_latitude or not site.ref_longitude:
        return None
    return Georeference(
        dms_to_degrees(site.ref_longitude), dms_to_degrees(site.ref_latitude), WGS84, "IfcSite"
    )


def dms_to_degrees(compound: tuple[int, ...]) -> float:
    """An IfcCompoundPlaneAngleMeasure (degrees, minutes, seconds, millionths of a second; all of one
    sign) in decimal degrees."""
    parts = [*compound, 0, 0, 0][:4]
    return parts[0] + parts[1] / 60 + parts[2] / 3600 + parts[3] / 3_600_000_000


def map_coordinates(conv: MapConversion, length_unit_m: float, x_m: float, y_m: float) -> tuple[float, float]:
    """Eastings, northings (map units) of a point at ``x_m, y_m`` metres in project coordinates.

    IfcMapConversion.Scale converts project length units to map units. When it is omitted although
    the two units differ (a millimetre model on a metre CRS, as in the buildingSMART sample), the
    declared units convert instead of the literal default of 1.0, which would misplace every offset
    by a factor of 1000 (IfcOpenShell's geolocation utilities take the 1.0).
    """
    per_metre = conv.scale / length_unit_m if conv.scale is not None else 1.0 / conv.map_unit_m
    theta = math.atan2(conv.x_axis_ordinate, conv.x_axis_abscissa)
    x, y = x_m * per_metre, y_m * per_metre
    eastings = conv.eastings + x * math.cos(theta) - y * math.sin(theta)
    northings = conv.northings + x * math.sin(theta) + y * math.cos(theta)
    return eastings, northings


def _map_position(model: IfcModel, building: IfcBuilding, notes: list[str]) -> Georeference | None:
    conv = model.map_conversion
    if conv is None:
        return None
    from parkbrain.model import crs as crs_mod

    try:
        crs = crs_mod.identify_crs(conv.crs_name)
        eastings, northings = map_coordinates(conv, model.length_unit_m, *building.origin_m[:2])
        lon, lat = to_wgs84(eastings, northings, crs)
    except (crs_mod.CRSError, ValueError) as exc:
        notes.append(f"the IfcMapConversion to {conv.crs_name!r} cannot be used ({exc}); IfcSite is used")
        return None
    return Georeference(lon, lat, crs, "IfcMapConversion")


def to_wgs84(x: float, y: float, crs: str) -> tuple[float, float]:
    """WGS84 longitude, latitude of one point in ``crs``."""
    from parkbrain.model.crs import to_wgs84 as convert

    lon, lat = convert([x], [y], crs)
    return float(lon[0]), float(lat[0])


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


# -- devices ---------------------------------------------------------------------------------------


def brick_kind(element: IfcElement) -> str | None:
    """The Brick class of an element's device, or None when the element is not a device.

    Looks up the class its type object implies first (IFC2X3 files use generic occurrences such as
    IfcFlowTerminal with a specific IfcAirTerminalType), then the element's class and supertypes.
    """
    candidates = list(element.ancestry or (element.ifc_class,))
    if element.type_class and element.type_class.endswith("Type"):
        candidates.insert(0, element.type_class.removesuffix("Type"))
    for cls in candidates:
        for key in ((cls, element.predefined_type), (cls, None)):
            if key in _KINDS:
                return _KINDS[key]
    return "Equipment"


def device_rows(model: IfcModel, park_id: str) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Device rows, and how many elements of each IFC class were not devices."""
    rows, skipped = [], Counter()
    for element in model.elements:
        kind = brick_kind(element)
        if kind is None:
            skipped[element.ifc_class] += 1
            continue
        rows.append(device_row(element, kind, park_id))
    return rows, skipped


def device_row(element: IfcElement, kind: str, park_id: str) -> dict[str, Any]:
    vendor, model = manufacturer(element)
    return {
        "device_id": ifc_id(park_id, element.guid),
        "park_id": park_id,
        "building_id": ifc_id(park_id, element.building_guid) if element.building_guid else None,
        "kind": kind,
        "name": element.name or element.type_name or f"{element.ifc_class} {element.guid}",
        "vendor": vendor,
        "model": model,
        "ifc_guid": element.guid,
    }


def manufacturer(element: IfcElement) -> tuple[str | None, str | None]:
    """Vendor and model from Pset_ManufacturerTypeInformation (the model number, else its label)."""
    info = element.properties.get("Pset_ManufacturerTypeInformation", {})
    vendor = _text(info.get("Manufacturer"))
    model = _text(info.get("ModelReference")) or _text(info.get("ModelLabel"))
    return vendor, model


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (list, tuple)):
        return None
    text = str(value).strip()
    return text or None
