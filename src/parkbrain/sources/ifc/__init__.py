"""The IFC source: BIM models (``.ifc``, STEP physical files) into buildings and devices.

``reader.py`` wraps IfcOpenShell (the optional extra ``bim``) and returns plain dataclasses;
``mapping.py`` turns them into canonical rows. Registered as the entry point ``ifc`` of the group
``parkbrain.sources``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from parkbrain.errors import BadFile
from parkbrain.model.tables import table_spec
from parkbrain.sources.base import Extract, ImportContext, ImportOptions
from parkbrain.sources.ifc.mapping import map_model
from parkbrain.sources.ifc.reader import MAGIC, read_ifc

_BOM = b"\xef\xbb\xbf"
_ARROW_TYPES = {
    "text": pa.string(),
    "json": pa.string(),
    "int": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class IfcSource:
    name: str = "ifc"
    title: str = (
        "IFC building models (BIM, STEP .ifc): buildings with floors, area, position; equipment as devices"
    )
    suffixes: tuple[str, ...] = (".ifc",)

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.removeprefix(_BOM).lstrip().startswith(MAGIC)

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        display = options.name_for(path)
        park_id = _park_id(options, context, display)
        mapped = map_model(read_ifc(path, display), park_id)
        tables = {
            "buildings": rows_table("buildings", mapped.buildings),
            "devices": rows_table("devices", mapped.devices),
        }
        return Extract(
            tables={name: table for name, table in tables.items() if table.num_rows},
            source_crs=mapped.source_crs,
            notes=mapped.notes,
        )


def _park_id(options: ImportOptions, context: ImportContext, display: str) -> str:
    if not options.park_id:
        raise BadFile(
            display,
            "an IFC model does not say which park it belongs to",
            field="park_id",
            expected="--park PARK_ID: the park the building belongs to",
        )
    if context.parks and options.park_id not in context.parks:
        raise BadFile(
            display,
            f"there is no park {options.park_id!r}",
            field="park_id",
            expected="the id of an existing park (see `parkbrain parks`)",
        )
    return options.park_id


def rows_table(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table typed by the canonical table's columns (those the rows have)."""
    spec = table_spec(table)
    names = [c for c in spec.column_names if any(c in row for row in rows)]
    types = {c.name: _ARROW_TYPES.get(c.type, pa.string()) for c in spec.columns}
    schema = pa.schema([(name, types[name]) for name in names])
    return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows], schema=schema)


IFC_SOURCE = IfcSource()
