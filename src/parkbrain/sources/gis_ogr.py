"""Shapefiles (a .shp beside its sidecars, or a .zip holding one) and GeoPackages, read with pyogrio.

pyogrio is the optional extra ``geo``; geometries come as WKB into shapely, the CRS from the .prj or
the GeoPackage's spatial reference. GDAL reads a cut-short .shp or .dbf without a word (missing
geometries, garbage records), so their sizes are checked against their headers first. A .dbf that
does not say its encoding (no .cpg, no code page byte) is read as UTF-8 or GBK, whichever decodes.
"""

from __future__ import annotations

import codecs
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from parkbrain.errors import BadFile, missing_extra
from parkbrain.sources.base import Extract, ImportContext, ImportOptions
from parkbrain.sources.gis_columns import encoding_codec, encoding_option
from parkbrain.sources.gis_geometry import Feature
from parkbrain.sources.gis_rows import features_to_extract

SHP_MAGIC = b"\x00\x00\x27\x0a"
SQLITE_MAGIC = b"SQLite format 3\x00"
_DBF_SAMPLE_BYTES = 1 << 20


# -- Shapefile and GeoPackage through pyogrio -------------------------------------------------------


def read_ogr(
    ogr_path: str, display: str, kind: str, *, layer: str | None = None, encoding: str | None = None
) -> tuple[list[Feature], str | None, list[str]]:
    """The features of a layer GDAL reads, the CRS it declares (EPSG:n or WKT), and GDAL's warnings."""
    raw, errors = _pyogrio()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, _fids, wkbs, columns = raw.read(ogr_path, layer=layer, encoding=encoding, force_2d=True)
    except (errors.DataSourceError, errors.DataLayerError) as exc:
        raise BadFile(
            display, f"not a readable {kind}: {_first_line(exc)}", expected=f"a complete {kind}"
        ) from None
    except UnicodeDecodeError as exc:  # a field name or value cut inside a character, or the wrong encoding
        raise BadFile(
            display,
            f"a field name or value is not valid {encoding or 'UTF-8'} text ({exc.reason})",
            expected="UTF-8 or GBK text (say which with --encoding); field names of at most 10 bytes",
        ) from None
    if wkbs is None:
        raise BadFile(
            display,
            "the layer has no geometry column",
            field="geometry",
            expected=f"a {kind} with geometries",
        )
    names = [str(n) for n in meta["fields"]]
    features = [
        Feature(i + 1, {n: columns[j][i] for j, n in enumerate(names)}, _from_wkb(wkb, i + 1, display))
        for i, wkb in enumerate(wkbs)
    ]
    return features, meta.get("crs"), [f"GDAL: {w.message}" for w in caught]


def _pyogrio() -> tuple[Any, Any]:
    try:
        import pyogrio.raw as raw
        from pyogrio import errors
    except ImportError:
        raise missing_extra("pyogrio", "geo") from None
    return raw, errors


def _from_wkb(wkb: bytes | None, number: int, display: str) -> Any:
    if wkb is None:
        return None
    try:
        return shapely.from_wkb(wkb)
    except shapely.errors.GEOSException as exc:
        raise BadFile(
            display,
            f"cannot read the geometry ({exc})",
            feature=number,
            field="geometry",
            expected="a valid geometry",
        ) from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ogr_extract(
    read: tuple[list[Feature], str | None, list[str]],
    options: ImportOptions,
    context: ImportContext,
    display: str,
    encoding: str | None,
) -> Extract:
    features, declared, notes = read
    if declared is None and not (options.crs or dict(options.mapping or {}).get("crs")):
        notes.append("the file does not say its CRS; the coordinates were read as WGS84 longitude/latitude")
    return features_to_extract(
        features, declared, options, context, display=display, encoding=encoding, notes=notes
    )


@dataclass(frozen=True)
class ShapefileFacts:
    """What is checked of a shapefile before GDAL reads it (from a folder or a zip)."""

    ogr_path: str  # what GDAL opens
    present: frozenset[str]  # the sidecar suffixes there, lower case (.shp, .shx, .dbf, .prj, .cpg)
    shp_head: bytes
    shp_size: int
    dbf_head: bytes  # the whole header (field descriptors included)
    dbf_size: int
    dbf_sample: bytes  # the first records


@dataclass(frozen=True)
class ShapefileSource:
    name: str = "shapefile"
    title: str = "ESRI Shapefile: a .shp beside its .shx, .dbf and .prj, or a .zip holding them"
    suffixes: tuple[str, ...] = (".shp", ".zip")

    def sniff(self, path: Path, head: bytes) -> bool:
        if head.startswith(SHP_MAGIC):
            return True
        return head.startswith(b"PK\x03\x04") and path.suffix.lower() == ".zip"

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        display = options.name_for(path)
        facts = _zip_facts(path, display) if path.suffix.lower() == ".zip" else _folder_facts(path)
        check_shapefile(facts, display)
        codec = encoding_codec(encoding_option(options), display) or dbf_encoding(facts)
        read = read_ogr(facts.ogr_path, display, "Shapefile", encoding=_gdal_codec(codec))
        used = {"gb18030": "GBK/GB18030", "utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(codec or "")
        return _ogr_extract(read, options, context, display, used)


def _folder_facts(path: Path) -> ShapefileFacts:
    siblings = {
        p.suffix.lower(): p for p in path.parent.glob(f"{_glob_escape(path.stem)}.*") if p.stem == path.stem
    }
    siblings[".shp"] = path

    def head(suffix: str, size: int) -> bytes:
        if suffix not in siblings:
            return b""
        with open(siblings[suffix], "rb") as fh:
            return fh.read(size)

    dbf_head = _dbf_header(head(".dbf", 32), lambda n: head(".dbf", n))
    sample = head(".dbf", len(dbf_head) + _DBF_SAMPLE_BYTES)[len(dbf_head) :]
    return ShapefileFacts(
        str(path),
        frozenset(siblings),
        head(".shp", 100),
        path.stat().st_size,
        dbf_head,
        siblings[".dbf"].stat().st_size if ".dbf" in siblings else 0,
        sample,
    )


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _zip_facts(path: Path, display: str) -> ShapefileFacts:
    try:
        with zipfile.ZipFile(path) as archive:
            return _facts_in_zip(archive, path, display)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadFile(
            display, f"not a readable zip file ({exc})", expected="a .zip holding one shapefile"
        ) from None


def _facts_in_zip(archive: zipfile.ZipFile, path: Path, display: str) -> ShapefileFacts:
    """What ``check_shapefile`` needs of the one shapefile in a zip."""
    names = [n for n in archive.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        found = ", ".join(shps) if shps else "none"
        raise BadFile(
            display,
            f"the zip holds {len(shps)} shapefiles ({found})",
            expected="a .zip holding exactly one .shp with its .shx, .dbf and .prj",
        )
    stem = shps[0][:-4]
    parts = {
        n[len(stem) :].lower(): n for n in names if n[: len(stem)] == stem and "." not in n[len(stem) + 1 :]
    }

    def head(suffix: str, size: int) -> bytes:
        if suffix not in parts:
            return b""
        with archive.open(parts[suffix]) as fh:
            return fh.read(size)

    dbf_head = _dbf_header(head(".dbf", 32), lambda n: head(".dbf", n))
    sample = head(".dbf", len(dbf_head) + _DBF_SAMPLE_BYTES)[len(dbf_head) :]
    dbf_size = archive.getinfo(parts[".dbf"]).file_size if ".dbf" in parts else 0
    return ShapefileFacts(
        f"/vsizip/{path.resolve()}/{shps[0]}",
        frozenset(parts),
        head(".shp", 100),
        archive.getinfo(shps[0]).file_size,
        dbf_head,
        dbf_size,
        sample,
    )


def _dbf_header(first: bytes, read: Any) -> bytes:
    if len(first) < 32:
        return first
    return read(int.from_bytes(first[8:10], "little"))


def check_shapefile(facts: ShapefileFacts, display: str) -> None:
    """Refuse a shapefile with missing sidecars or a cut-short .shp or .dbf (GDAL reads those silently)."""
    missing = [s for s in (".shx", ".dbf") if s not in facts.present]
    if missing:
        raise BadFile(
            display,
            f"the shapefile's {' and '.join(missing)} file is missing",
            expected="the .shp, .shx, .dbf (and .prj) files together — zip them for an upload",
        )
    if not facts.shp_head.startswith(SHP_MAGIC) or len(facts.shp_head) < 100:
        raise BadFile(
            display, "the .shp file is not a shapefile (its header is wrong)", expected="an ESRI Shapefile"
        )
    declared = int.from_bytes(facts.shp_head[24:28], "big") * 2
    if facts.shp_size < declared:
        raise BadFile(
            display,
            f"the .shp file is cut short: {facts.shp_size:,} of the {declared:,} bytes its header announces",
            expected="the complete file",
        )
    _check_dbf(facts, display)


def _check_dbf(facts: ShapefileFacts, display: str) -> None:
    head = facts.dbf_head
    if len(head) < 32:
        raise BadFile(
            display,
            "the .dbf file is not a dBASE table (its header is cut short)",
            expected="a complete .dbf",
        )
    records = int.from_bytes(head[4:8], "little")
    expected_size = len(head) + records * int.from_bytes(head[10:12], "little")
    if facts.dbf_size < expected_size:
        raise BadFile(
            display,
            f"the .dbf file is cut short: {facts.dbf_size:,} of the {expected_size:,} bytes "
            f"its {records:,} records need",
            expected="the complete file",
        )


def dbf_encoding(facts: ShapefileFacts) -> str | None:
    """The text encoding of a .dbf that does not say it (no .cpg, no code page byte): UTF-8 or GBK,
    from its field names and first records; None to let GDAL decide."""
    if ".cpg" in facts.present or len(facts.dbf_head) < 32 or facts.dbf_head[29] != 0:
        return None
    text = _dbf_field_names(facts.dbf_head) + facts.dbf_sample
    if text.isascii():
        return None
    for codec in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(codec)().decode(text, final=False)
        except UnicodeDecodeError:
            continue
        return codec
    return None


def _dbf_field_names(head: bytes) -> bytes:
    names = []
    for start in range(32, len(head) - 31, 32):
        if head[start] == 0x0D:  # the end of the field descriptors
            break
        names.append(head[start : start + 11].split(b"\x00")[0])
    return b" ".join(names)


def _gdal_codec(codec: str | None) -> str | None:
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GB18030"}.get(codec or "")


@dataclass(frozen=True)
class GeoPackageSource:
    name: str = "gpkg"
    title: str = "GeoPackage (.gpkg): its one spatial layer (or the one named `layer` in the mapping)"
    suffixes: tuple[str, ...] = (".gpkg",)

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(SQLITE_MAGIC)

    def read(self, path: Path, options: ImportOptions, context: ImportContext) -> Extract:
        display = options.name_for(path)
        mapping = dict(options.mapping or {})
        layer = gpkg_layer(path, display, mapping.get("layer") or mapping.get("sheet"))
        read = read_ogr(str(path), display, "GeoPackage", layer=layer)
        return _ogr_extract(read, options, context, display, None)


def gpkg_layer(path: Path, display: str, wanted: str | None) -> str:
    """The layer to read: the one asked for, else the only spatial one."""
    _, errors = _pyogrio()
    from pyogrio import list_layers

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's complaints about a broken file; the error says enough
            layers = [(str(name), gtype) for name, gtype in list_layers(path)]
    except (errors.DataSourceError, errors.DataLayerError) as exc:
        raise BadFile(
            display, f"not a readable GeoPackage: {_first_line(exc)}", expected="a complete GeoPackage"
        ) from None
    spatial = [name for name, gtype in layers if gtype]
    if wanted is not None:
        if wanted not in spatial:
            raise BadFile(
                display,
                f"no spatial layer named {wanted!r}",
                field="layer",
                expected=f"one of {', '.join(spatial) or '(none)'}",
            )
        return wanted
    if len(spatial) != 1:
        raise BadFile(
            display,
            f"the GeoPackage holds {len(spatial)} spatial layers ({', '.join(spatial) or 'none'})",
            expected='one layer, or `layer = "LAYER"` in a mapping file to choose one',
        )
    return spatial[0]
