"""The canonical park data model, declared as data.

These table and column names are a contract: the API, the assistant, tests and outside tools rely on
them (see DESIGN.md, "The park data model"). Columns may be added, never renamed. The store creates
them through versioned migrations; ``tests/test_store.py`` checks that every column declared here
exists in a migrated database with a compatible type.

Types are abstract: ``text``, ``int``, ``double``, ``bool``, ``timestamp`` (UTC), ``json`` (text).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: str, description: str, nullable: bool = True) -> Column:
    return Column(name, type_, description, nullable)


REGIONS = TableSpec(
    "regions",
    ("region_code",),
    "Administrative regions (province, prefectures, counties)",
    (
        _c("region_code", "text", "GB/T 2260 six-digit code", False),
        _c("name", "text", "Chinese name", False),
        _c("name_en", "text", "English name"),
        _c("level", "text", "province / prefecture / county", False),
        _c("parent_code", "text", "region_code of the parent region"),
        _c("geometry", "json", "GeoJSON geometry, WGS84, repaired to be valid"),
        _c("area_km2", "double", "area computed on an equal-area projection"),
        _c("data_source", "text", "where the row came from"),
        _c("source_crs", "text", "CRS the coordinates were converted from on import (WGS84 if none)"),
        _c("import_id", "int", "the import that last wrote the row (see the imports table)"),
    ),
)

PARKS = TableSpec(
    "parks",
    ("park_id",),
    "Industrial parks and development zones",
    (
        _c("park_id", "text", "stable text id", False),
        _c("name", "text", "official Chinese name", False),
        _c("name_en", "text", "English name"),
        _c("short_names", "json", "usual short forms, JSON array"),
        _c("region_code", "text", "prefecture the park lies in", False),
        _c("level", "text", "national / provincial"),
        _c("kind", "text", "经济技术开发区, 高新技术产业开发区, 工业园区, …"),
        _c("approved_area_ha", "double", "approved area in hectares"),
        _c("approval_year", "int", "year of approval"),
        _c("leading_industries", "json", "leading industries, JSON array of Chinese names"),
        _c("lon", "double", "centre longitude, WGS84"),
        _c("lat", "double", "centre latitude, WGS84"),
        _c("boundary", "json", "GeoJSON polygon, WGS84"),
        _c("data_source", "text", "where the row came from (e.g. 'demo')"),
        _c("source_crs", "text", "CRS the coordinates were converted from on import (WGS84 if none)"),
        _c("import_id", "int", "the import that last wrote the row (see the imports table)"),
    ),
)

BUILDINGS = TableSpec(
    "buildings",
    ("building_id",),
    "Buildings in a park",
    (
        _c("building_id", "text", "stable text id", False),
        _c("park_id", "text", "park the building belongs to", False),
        _c("name", "text", "name"),
        _c("floors", "int", "number of storeys above ground"),
        _c("area_m2", "double", "gross floor area, m²"),
        _c("ifc_guid", "text", "GlobalId of the IfcBuilding, when imported from BIM"),
        _c("footprint", "json", "GeoJSON polygon, WGS84"),
        _c("use", "text", "factory / warehouse / office / utility …"),
        _c("data_source", "text", "where the row came from"),
        _c("lon", "double", "longitude of the building's reference point, WGS84"),
        _c("lat", "double", "latitude of the building's reference point, WGS84"),
        _c("source_crs", "text", "CRS the coordinates were converted from on import (WGS84 if none)"),
        _c("import_id", "int", "the import that last wrote the row (see the imports table)"),
    ),
)

ENTERPRISES = TableSpec(
    "enterprises",
    ("enterprise_id",),
    "Enterprises located in a park",
    (
        _c("enterprise_id", "text", "stable text id", False),
        _c("park_id", "text", "park the enterprise is in", False),
        _c("name", "text", "registered Chinese name", False),
        _c("uscc", "text", "统一社会信用代码 (GB 32100), 18 characters"),
        _c("industry_code", "text", "GB/T 4754-2017 industry code"),
        _c("industry_name", "text", "GB/T 4754-2017 industry name"),
        _c("employees", "int", "number of employees"),
        _c("output_value_10k_cny", "double", "annual output value, 万元"),
        _c("key_energy_user", "bool", "重点用能单位"),
        _c("building_id", "text", "main building"),
        _c("lon", "double", "longitude, WGS84"),
        _c("lat", "double", "latitude, WGS84"),
        _c("data_source", "text", "where the row came from; 'demo' rows are invented"),
        _c("source_crs", "text", "CRS the coordinates were converted from on import (WGS84 if none)"),
        _c("import_id", "int", "the import that last wrote the row (see the imports table)"),
    ),
)

DEVICES = TableSpec(
    "devices",
    ("device_id",),
    "Meters, sensors and equipment",
    (
        _c("device_id", "text", "stable text id", False),
        _c("park_id", "text", "park the device is in", False),
        _c("enterprise_id", "text", "owner; NULL for park-owned devices"),
        _c("building_id", "text", "building the device is in"),
        _c("kind", "text", "Brick class, e.g. Building_Electrical_Meter, Pump, Air_Quality_Sensor", False),
        _c("name", "text", "name"),
        _c("vendor", "text", "manufacturer"),
        _c("model", "text", "model"),
        _c("ifc_guid", "text", "GlobalId of the IFC element, when imported from BIM"),
        _c("data_source", "text", "where the row and its readings came from"),
        _c("import_id", "int", "the import that last wrote the row"),
    ),
)

POINTS = TableSpec(
    "points",
    ("point_id",),
    "Measured quantities of a device (time series)",
    (
        _c("point_id", "text", "stable text id", False),
        _c("device_id", "text", "device the point belongs to", False),
        _c("quantity", "text", "e.g. electric_energy, active_power, pm2_5, vibration_rms", False),
        _c("unit", "text", "UCUM / pint unit text, e.g. kWh, kW, ug/m3", False),
        _c("brick_class", "text", "Brick point class"),
        _c("value_kind", "text", "cumulative (register), interval (total) or instant", False),
        _c("interval_s", "int", "nominal sampling interval in seconds"),
        _c("energy_carrier", "text", "electricity, natural_gas, steam, water, diesel … (meters only)"),
        _c("name", "text", "display name"),
        _c("data_source", "text", "where the readings came from"),
        _c("import_id", "int", "the import that last wrote the row"),
    ),
)

READINGS = TableSpec(
    "readings",
    ("point_id", "ts"),
    "Telemetry: one value of one point at one instant; unique on (point_id, ts)",
    (
        _c("point_id", "text", "point", False),
        _c("ts", "timestamp", "UTC timestamp", False),
        _c("value", "double", "value in the point's unit", False),
        _c("import_id", "int", "the import that wrote the reading (NULL for telemetry)"),
    ),
)

ZONES = TableSpec(
    "zones",
    ("zone_id",),
    "Zones of a park: functional areas, plots, environmental or safety zones",
    (
        _c("zone_id", "text", "stable text id", False),
        _c("park_id", "text", "park the zone belongs to"),
        _c("name", "text", "name", False),
        _c("kind", "text", "industrial / residential / green / logistics / plot / safety …"),
        _c("geometry", "json", "GeoJSON polygon, WGS84, repaired to be valid"),
        _c("area_m2", "double", "area computed on an equal-area projection"),
        _c("data_source", "text", "where the row came from"),
        _c("source_crs", "text", "CRS the coordinates were converted from on import (WGS84 if none)"),
        _c("import_id", "int", "the import that last wrote the row (see the imports table)"),
    ),
)

ALERTS = TableSpec(
    "alerts",
    ("alert_id",),
    "Alerts raised by rules",
    (
        _c("alert_id", "text", "stable text id", False),
        _c("ts", "timestamp", "when the condition started (UTC)", False),
        _c("park_id", "text", "park"),
        _c("enterprise_id", "text", "enterprise, when the alert concerns one"),
        _c("device_id", "text", "device"),
        _c("point_id", "text", "point"),
        _c("rule", "text", "rule that raised it", False),
        _c("severity", "text", "info / warning / critical", False),
        _c("message", "text", "human-readable message (Chinese)"),
        _c("status", "text", "open / acknowledged / closed", False),
        _c("value", "double", "value that triggered the rule"),
    ),
)

CANONICAL_TABLES: tuple[TableSpec, ...] = (
    REGIONS,
    PARKS,
    ZONES,
    BUILDINGS,
    ENTERPRISES,
    DEVICES,
    POINTS,
    READINGS,
    ALERTS,
)

VALUE_KINDS = ("cumulative", "interval", "instant")

#: The Brick point class a point of each quantity gets when its source does not name one (the classes
#: the demo uses; Brick 1.5 names, see brickschema.org/ontology).
BRICK_POINT_CLASS: dict[str, str] = {
    "electric_energy": "Electric_Energy_Sensor",
    "active_power": "Active_Power_Sensor",
    "reactive_energy": "Energy_Sensor",
    "current": "Current_Sensor",
    "voltage": "Voltage_Sensor",
    "water_volume": "Water_Usage_Sensor",
    "natural_gas_volume": "Natural_Gas_Usage_Sensor",
    "steam_mass": "Steam_Usage_Sensor",
    "pm2_5": "PM2.5_Level_Sensor",
    "pm10": "PM10_Level_Sensor",
    "co": "CO_Level_Sensor",
    "no2": "NO2_Level_Sensor",
    "o3": "Ozone_Level_Sensor",
    "so2": "Air_Quality_Sensor",
    "flow_rate": "Flow_Sensor",
    "pressure": "Pressure_Sensor",
    "air_temperature": "Air_Temperature_Sensor",
    "relative_humidity": "Relative_Humidity_Sensor",
    "bearing_temperature": "Temperature_Sensor",
    "motor_temperature": "Temperature_Sensor",
    "fluid_temperature": "Temperature_Sensor",
}
ALERT_STATUSES = ("open", "acknowledged", "closed")
SEVERITIES = ("info", "warning", "critical")


def table_spec(name: str) -> TableSpec:
    """The spec of a canonical table; ``KeyError`` if there is none by that name."""
    for spec in CANONICAL_TABLES:
        if spec.name == name:
            return spec
    raise KeyError(name)
