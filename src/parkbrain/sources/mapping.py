"""Mapping files: how to read a file whose layout ParkBrain does not recognise by itself.

A mapping file is TOML. Every key is optional::

    table = "readings"              # the canonical table, as --as
    layout = "wide"                 # readings: "long" (point_id, ts, value) or "wide" (a column per point)
    delimiter = ";"                 # CSV/TSV: detected when absent
    encoding = "gbk"                # utf-8, utf-8-sig, gbk, gb18030: detected when absent
    timezone = "Asia/Seoul"         # for timestamps without an offset (default Asia/Shanghai)
    time_format = "%d/%m/%Y %H:%M"  # strptime format of the time column, when not ISO 8601
    crs = "GCJ02"                   # coordinates' CRS, as --crs
    sheet = "企业名录"               # Excel: the sheet to read (default: the first)
    layer = "parks"                 # GeoPackage: the layer to read (needed when there are several)
    header_row = 1                  # Excel/CSV: the line holding the column names (1-based)

    [columns]                       # file column → canonical column
    "公司" = "name"
    "date" = "ts"

    [points]                        # wide readings: file column → point_id (unlisted columns are skipped)
    Usage_kWh = "steel-meter-kwh"

    [units]                         # file column → the unit its values are in (converted on import)
    Usage_kWh = "kWh"

    [defaults]                      # values for columns the file lacks
    park_id = "nanning-etdz"
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parkbrain.errors import InvalidInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCALARS = (
    "table",
    "layout",
    "delimiter",
    "encoding",
    "timezone",
    "time_format",
    "crs",
    "sheet",
    "header_row",
)
TABLES = ("columns", "points", "units", "defaults")


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read and check a mapping file; ``InvalidInput`` names the file and the key that is wrong."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such mapping file") from None
    return parse_mapping(content, str(path))


def parse_mapping(content: bytes, where: str) -> dict[str, Any]:
    """A mapping file's bytes, parsed and checked."""
    try:
        data = tomllib.loads(content.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{where}: not a valid TOML mapping file: {exc}") from None
    return check_mapping(data, where)


def check_mapping(data: Mapping[str, Any], where: str = "mapping") -> dict[str, Any]:
    for key, value in data.items():
        if key in TABLES:
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise InvalidInput(f"{where}: [{key}] must be a table of names")
            if key != "defaults" and not all(isinstance(v, str) for v in value.values()):
                raise InvalidInput(f"{where}: every value in [{key}] must be a string")
        elif key in SCALARS:
            expected = int if key == "header_row" else str
            if not isinstance(value, expected):
                raise InvalidInput(f"{where}: {key} must be a {expected.__name__}; got {value!r}")
        else:
            raise InvalidInput(
                f"{where}: unknown key {key!r}; expected some of {', '.join(SCALARS + TABLES)}"
            )
    if data.get("layout") not in (None, "long", "wide"):
        raise InvalidInput(f"{where}: layout must be 'long' or 'wide'; got {data['layout']!r}")
    return dict(data)


def mapping_defaults(mapping: Mapping[str, Any], park_id: str | None) -> dict[str, Any]:
    """The mapping's [defaults], with the park given on the command line (--park) winning."""
    defaults = dict(mapping.get("defaults", {}))
    if park_id:
        defaults["park_id"] = park_id
    return defaults
