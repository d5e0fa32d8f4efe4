"""GIS sources: GeoJSON, Shapefile (plain and zipped) and GeoPackage, on the real Guangxi boundaries
and small hand-made files in several CRSs; every class of bad input names the file, feature and field."""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box, mapping

from parkbrain.errors import BadFile, ConfigError
from parkbrain.model.crs import wgs84_to_gcj02
from parkbrain.model.geo import from_geojson
from parkbrain.model.tables import table_spec
from parkbrain.sources.base import ImportContext, ImportOptions
from parkbrain.sources.gis import GEOJSON_SOURCE, GPKG_SOURCE, SHAPEFILE_SOURCE

GUANGXI = Path(str(resources.files("parkbrain") / "data" / "guangxi_prefectures.geojson"))
GUANGXI_README_KM2 = 236_626  # ../shared/data/guangxi-boundaries/README.md (Albers equal-area)
PARK_BOX = box(108.30, 22.75, 108.45, 22.88)  # by Nanning, WGS84
BUILDING = box(108.3500, 22.8000, 108.3505, 22.8004)  # about 51 m × 44 m


def context_with_park() -> ImportContext:
    park = {"name": "南宁经济技术开发区", "region_code": "450100", "boundary": json.dumps(mapping(PARK_BOX))}
    return ImportContext(dict, lambda: {"nn-etdz": park})


def read(source, path: Path, context: ImportContext | None = None, **options):
    return source.read(path, ImportOptions(**options), context or ImportContext.empty())


def feature(geometry, **properties) -> dict:
    geometry = mapping(geometry) if hasattr(geometry, "geom_type") else geometry
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_geojson(tmp_path: Path, features: list, name: str = "f.geojson", **members) -> Path:
    path = tmp_path / name
    path.write_text(
        json.dumps({"type": "FeatureCollection", **members, "features": features}, ensure_ascii=False)
    )
    return path


def rows(extract, table: str) -> list[dict]:
    return extract.tables[table].to_pylist()


def near(a, b, tolerance_deg: float) -> bool:
    return shapely.hausdorff_distance(a, b) < tolerance_deg


def bad(call, *fragments: str) -> BadFile:
    with pytest.raises(BadFile) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    return info.value


# -- the real Guangxi boundaries --------------------------------------------------------------------


@pytest.fixture(scope="module")
def guangxi():
    return read(GEOJSON_SOURCE, GUANGXI)


def test_guangxi_geojson_becomes_the_province_and_14_prefectures(guangxi):
    regions = {r["region_code"]: r for r in rows(guangxi, "regions")}
    assert len(regions) == 15 and guangxi.rows() == {"regions": 15}
    province = regions.pop("450000")
    assert (province["name"], province["name_en"], province["level"], province["parent_code"]) == (
        "广西壮族自治区",
        "Guangxi",
        "province",
        None,
    )
    assert {r["level"] for r in regions.values()} == {"prefecture"}
    assert {r["parent_code"] for r in regions.values()} == {"450000"}
    assert regions["450700"]["name"] == "钦州市" and regions["450100"]["name_en"] == "Nanning"
    assert guangxi.source_crs == "WGS84" and {r["source_crs"] for r in regions.values()} == {"WGS84"}


def test_columns_are_canonical_and_typed(guangxi):
    table = guangxi.tables["regions"]
    assert set(table.column_names) <= set(table_spec("regions").column_names)
    assert str(table.schema.field("area_km2").type) == "double"
    assert str(table.schema.field("geometry").type) == "string"


def test_the_invalid_province_and_qinzhou_are_repaired_and_noted(guangxi):
    repaired = [n for n in guangxi.notes if "repaired" in n]
    assert len(repaired) == 2
    assert any(n.startswith("feature 1 (广西壮族自治区)") for n in repaired)
    assert any("钦州市" in n for n in repaired)
    for row in rows(guangxi, "regions"):
        geom = from_geojson(row["geometry"])
        assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon"), row["name"]


def test_areas_match_the_published_total(guangxi):
    areas = {r["region_code"]: r["area_km2"] for r in rows(guangxi, "regions")}
    province = areas.pop("450000")
    assert abs(province - GUANGXI_README_KM2) / GUANGXI_README_KM2 < 0.01
    assert abs(sum(areas.values()) - province) / province < 0.01


def test_a_legacy_crs_member_is_honoured(tmp_path):
    doc = json.loads(GUANGXI.read_text(encoding="utf-8"))
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    path = write_geojson(tmp_path, doc["features"][1:3], crs=named)
    extract = read(GEOJSON_SOURCE, path)
    assert extract.source_crs == "CGCS2000"
    assert {r["source_crs"] for r in rows(extract, "regions")} == {"CGCS2000"}


# -- parks, buildings and zones in other CRSs -------------------------------------------------------


def gcj02(geom):
    return shapely.transform(geom, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))


def test_gcj02_park_boundaries_are_converted_when_crs_is_given(tmp_path):
    path = write_geojson(
        tmp_path,
        [
            feature(
                gcj02(PARK_BOX),
                园区编号="nn-etdz",
                园区名称="南宁经济技术开发区",
                区划码="450100",
                主导产业="食品、生物医药、先进装备制造",
                批复面积="1080",
            ),
            feature(gcj02(Point(108.6, 22.7)), 园区名称="南宁六景工业园区", 区划码=450100),
        ],
    )
    extract = read(GEOJSON_SOURCE, path, crs="GCJ02")
    first, second = rows(extract, "parks")
    assert extract.source_crs == "GCJ02" and first["source_crs"] == "GCJ02"
    assert near(from_geojson(first["boundary"]), PARK_BOX, 2e-6)
    assert PARK_BOX.contains(Point(first["lon"], first["lat"]))
    assert json.loads(first["leading_industries"]) == ["食品", "生物医药", "先进装备制造"]
    assert first["approved_area_ha"] == 1080.0
    # a point gives the centre only; the id is derived, stably, from the prefecture and the name
    assert (
        second["boundary"] is None and abs(second["lon"] - 108.6) < 1e-5 and abs(second["lat"] - 22.7) < 1e-5
    )
    assert second["park_id"].startswith("park-") and second["region_code"] == "450100"
    assert rows(read(GEOJSON_SOURCE, path, crs="GCJ02"), "parks")[1]["park_id"] == second["park_id"]


def test_a_file_labelled_wgs84_may_be_read_as_gcj02_with_a_note(tmp_path):
    named = {"type": "name", "properties": {"name": "EPSG:4326"}}
    path = write_geojson(tmp_path, [feature(gcj02(PARK_BOX), 园区名称="园区", 区划码="450100")], crs=named)
    extract = read(GEOJSON_SOURCE, path, crs="高德")
    assert extract.source_crs == "GCJ02" and any("read as GCJ02" in n for n in extract.notes)


def test_a_park_without_region_code_names_the_feature_and_field(tmp_path):
    path = write_geojson(
        tmp_path,
        [
            feature(PARK_BOX, 园区名称="甲园区", 区划码="450100"),
            feature(PARK_BOX, 园区名称="乙园区"),
        ],
        name="parks.geojson",
    )
    bad(lambda: read(GEOJSON_SOURCE, path), "parks.geojson, feature 2, field '区划码': no region_code")
    # a mapping default fills it
    extract = read(
        GEOJSON_SOURCE, path, mapping={"defaults": {"region_code": "450100"}}, display_name="parks.geojson"
    )
    assert [r["region_code"] for r in rows(extract, "parks")] == ["450100", "450100"]


def test_buildings_take_their_park_from_the_option_and_their_area_from_the_footprint(tmp_path):
    path = write_geojson(
        tmp_path,
        [
            feature(BUILDING, 建筑名称="1号厂房", 层数=3, 用途="factory"),
            feature(BUILDING, 建筑编号="B2", 名称="2号楼", 层数="5", 建筑面积=8800),
        ],
    )
    extract = read(GEOJSON_SOURCE, path, context_with_park(), park_id="nn-etdz")
    first, second = rows(extract, "buildings")
    assert first["building_id"].startswith("b-") and first["park_id"] == "nn-etdz" and first["floors"] == 3
    assert abs(first["area_m2"] - 51.4 * 44.4) / (51.4 * 44.4) < 0.02
    assert BUILDING.contains(Point(first["lon"], first["lat"]))
    assert (second["building_id"], second["floors"], second["area_m2"]) == ("B2", 5, 8800.0)
    assert any("footprint area" in n for n in extract.notes)


def test_buildings_inside_one_park_boundary_need_no_park_id(tmp_path):
    path = write_geojson(tmp_path, [feature(BUILDING, 楼栋="A栋")])
    assert rows(read(GEOJSON_SOURCE, path, context_with_park()), "buildings")[0]["park_id"] == "nn-etdz"
    outside = write_geojson(
        tmp_path, [feature(box(109, 23, 109.001, 23.001), 楼栋="A栋")], name="out.geojson"
    )
    bad(lambda: read(GEOJSON_SOURCE, outside, context_with_park()), "out.geojson, feature 1, field 'park_id'")
    bad(lambda: read(GEOJSON_SOURCE, path, context_with_park(), park_id="nowhere"), "unknown park 'nowhere'")


def test_zones_on_request_with_derived_ids_and_computed_area(tmp_path):
    half = box(108.30, 22.75, 108.31, 22.76)
    path = write_geojson(tmp_path, [feature(half, 名称="一期工业用地", 用地性质="industrial")])
    extract = read(GEOJSON_SOURCE, path, context_with_park(), table="zones", park_id="nn-etdz")
    (zone,) = rows(extract, "zones")
    assert zone["zone_id"].startswith("z-") and zone["kind"] == "industrial" and zone["park_id"] == "nn-etdz"
    assert abs(zone["area_m2"] - 1_141_000) / 1_141_000 < 0.02  # 0.01° × 0.01° at 22.75°N


def test_a_mapping_renames_properties_and_sets_defaults(tmp_path):
    path = write_geojson(tmp_path, [feature(PARK_BOX, NAME_CH="南宁市", ADCODE99="450100")])
    mapping = {
        "columns": {"NAME_CH": "name", "ADCODE99": "region_code"},
        "defaults": {"data_source": "测绘院"},
    }
    (row,) = rows(read(GEOJSON_SOURCE, path, mapping=mapping), "regions")
    assert (row["region_code"], row["name"], row["level"], row["data_source"]) == (
        "450100",
        "南宁市",
        "prefecture",
        "测绘院",
    )
    typo = {"columns": {"NAME_CN": "name"}}
    bad(lambda: read(GEOJSON_SOURCE, path, mapping=typo), "field 'NAME_CN'", "no feature has")


# -- Shapefile and GeoPackage -----------------------------------------------------------------------


pyogrio = pytest.importorskip("pyogrio")
pyproj = pytest.importorskip("pyproj")


def project(geom, crs: str, source: str = "EPSG:4326"):
    transformer = pyproj.Transformer.from_crs(source, crs, always_xy=True)
    return shapely.transform(geom, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))


def write_layer(path: Path, geoms: list, fields: dict[str, list], crs: str | None, **kwargs) -> Path:
    import pyogrio.raw

    kind = "Point" if geoms[0].geom_type == "Point" else "MultiPolygon"
    wkb = np.array(
        [shapely.to_wkb(shapely.multipolygons([g]) if g.geom_type == "Polygon" else g) for g in geoms],
        dtype=object,
    )
    values = [np.array(v, dtype=object) for v in fields.values()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'crs' was not provided" when writing one without on purpose
        pyogrio.raw.write(str(path), wkb, values, list(fields), geometry_type=kind, crs=crs, **kwargs)
    return path


@pytest.fixture(scope="module")
def prefectures_gk(tmp_path_factory) -> Path:
    """The 14 prefectures as a shapefile in CGCS2000 / 3-degree Gauss-Krüger CM 108E (EPSG:4545)."""
    doc = json.loads(GUANGXI.read_text(encoding="utf-8"))
    chosen = [f for f in doc["features"] if f["properties"]["level"] == "prefecture"]
    geoms = [project(from_geojson(f["geometry"]), "EPSG:4545", "EPSG:4490") for f in chosen]
    fields = {k: [f["properties"][k] for f in chosen] for k in ("区划码", "地名", "name")}
    return write_layer(
        tmp_path_factory.mktemp("shp") / "prefectures.shp", geoms, fields, "EPSG:4545", encoding="UTF-8"
    )


def test_a_gauss_kruger_shapefile_is_converted_to_wgs84(prefectures_gk, guangxi):
    extract = read(SHAPEFILE_SOURCE, prefectures_gk)
    assert extract.source_crs == "EPSG:4545" and extract.rows() == {"regions": 14}
    expected = {r["region_code"]: r for r in rows(guangxi, "regions")}
    for row in rows(extract, "regions"):
        original = expected[row["region_code"]]
        assert row["name"] == original["name"] and row["parent_code"] == "450000"
        assert abs(row["area_km2"] - original["area_km2"]) / original["area_km2"] < 1e-3
        if row["region_code"] != "450700":  # Qinzhou is repaired, so compare the valid ones exactly
            assert near(from_geojson(row["geometry"]), from_geojson(original["geometry"]), 2e-5)


def test_a_zipped_shapefile_reads_the_same(prefectures_gk, tmp_path):
    archive = tmp_path / "prefectures.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in prefectures_gk.parent.glob("prefectures.*"):
            zf.write(part, f"边界/{part.name}")
    assert SHAPEFILE_SOURCE.sniff(archive, archive.read_bytes()[:100])
    zipped, plain = read(SHAPEFILE_SOURCE, archive), read(SHAPEFILE_SOURCE, prefectures_gk)
    assert zipped.tables["regions"].equals(plain.tables["regions"])


def test_a_utm_geopackage_of_parks(tmp_path):
    path = write_layer(
        tmp_path / "parks.gpkg",
        [project(PARK_BOX, "EPSG:32649")],
        {"park_id": ["nn-etdz"], "园区名称": ["南宁经济技术开发区"], "区划码": ["450100"]},
        "EPSG:32649",
        layer="parks",
    )
    assert GPKG_SOURCE.sniff(path, path.read_bytes()[:100])
    extract = read(GPKG_SOURCE, path)
    (park,) = rows(extract, "parks")
    assert extract.source_crs == "EPSG:32649" and park["source_crs"] == "EPSG:32649"
    assert near(from_geojson(park["boundary"]), PARK_BOX, 2e-6)


def test_gcj02_points_in_a_shapefile_without_prj(tmp_path):
    path = write_layer(
        tmp_path / "parks.shp",
        [gcj02(Point(108.36, 22.81))],
        {"园区": ["高新区"], "区划码": ["450100"]},
        None,
        encoding="UTF-8",
    )
    path.with_suffix(".prj").unlink(missing_ok=True)
    (park,) = rows(read(SHAPEFILE_SOURCE, path, crs="GCJ02"), "parks")
    assert abs(park["lon"] - 108.36) < 1e-6 and abs(park["lat"] - 22.81) < 1e-6
    extract = read(SHAPEFILE_SOURCE, path)
    assert extract.source_crs == "WGS84" and any("does not say its CRS" in n for n in extract.notes)


def test_a_gbk_dbf_without_cpg_is_decoded(tmp_path):
    path = write_layer(
        tmp_path / "gbk.shp",
        [Point(108.36, 22.81)],
        {"园区": ["南宁园区"], "区划码": ["450100"]},
        "EPSG:4326",
        encoding="GB18030",
    )
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    dbf[29] = 0  # no code page byte either
    path.with_suffix(".dbf").write_bytes(bytes(dbf))
    extract = read(SHAPEFILE_SOURCE, path)
    assert rows(extract, "parks")[0]["name"] == "南宁园区" and extract.encoding == "GBK/GB18030"


def test_a_geopackage_with_two_layers_needs_one_named(tmp_path):
    path = tmp_path / "two.gpkg"
    for layer in ("a", "b"):
        write_layer(path, [PARK_BOX], {"园区名称": [layer], "区划码": ["450100"]}, "EPSG:4326", layer=layer)
    bad(lambda: read(GPKG_SOURCE, path), "two.gpkg", "2 spatial layers (a, b)")
    assert rows(read(GPKG_SOURCE, path, mapping={"layer": "b"}), "parks")[0]["name"] == "b"


# -- bad input --------------------------------------------------------------------------------------


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",, }\n]}')
    error = bad(lambda: read(GEOJSON_SOURCE, path), "broken.geojson, line 3: broken JSON")
    assert error.line == 3


@pytest.mark.parametrize(
    ("geometry", "problem"),
    [
        (None, "the feature has no geometry"),
        ({"type": "Polygon", "coordinates": []}, "the geometry is empty"),
        ({"type": "Polygon", "coordinates": [[[108.3, 22.8], [108.4, 22.8]]]}, "cannot read the geometry"),
        ({"type": "Polygn", "coordinates": [[[108.3, 22.8]]]}, "unknown geometry type 'Polygn'"),
        (
            {"type": "LineString", "coordinates": [[108.3, 22.8], [108.4, 22.9]]},
            "the geometry is a LineString",
        ),
        ({"type": "Point", "coordinates": [208.3, 22.8]}, "is not a longitude/latitude"),
        ({"type": "Point", "coordinates": [22.8, 108.3]}, "look swapped"),  # latitude > 90
        (
            {"type": "Point", "coordinates": [40.0, 80.0]},
            "look swapped",
        ),  # Kashgar's lat/lon: in range, not China
        ({"type": "Point", "coordinates": [108.3, "x"]}, "cannot read the geometry"),
    ],
)
def test_bad_geometries_name_the_file_feature_and_field(tmp_path, geometry, problem):
    good = feature(Point(108.3, 22.8), 园区名称="甲", 区划码="450100")
    path = write_geojson(tmp_path, [good, {**good, "geometry": geometry}], name="parks.geojson")
    error = bad(lambda: read(GEOJSON_SOURCE, path), "parks.geojson, feature 2, field 'geometry'", problem)
    assert (error.feature, error.field) == (2, "geometry")
    if "swapped" in problem:
        assert error.expected == "longitude first (x), then latitude (y), as GeoJSON requires"


def test_swapped_projected_coordinates_are_caught(tmp_path):
    gk = project(Point(108.3, 22.8), "EPSG:4545")
    path = write_geojson(
        tmp_path, [feature(Point(gk.y, gk.x), 园区名称="甲", 区划码="450100")], name="gk.geojson"
    )
    error = bad(
        lambda: read(GEOJSON_SOURCE, path, crs="EPSG:4545"),
        "gk.geojson, feature 1, field 'geometry'",
        "look swapped",
    )
    assert error.expected == "easting first (x), then northing (y)"
    # unswapped it reads, and lands where it should
    path = write_geojson(tmp_path, [feature(gk, 园区名称="甲", 区划码="450100")])
    (park,) = rows(read(GEOJSON_SOURCE, path, crs="EPSG:4545"), "parks")
    assert abs(park["lon"] - 108.3) < 1e-7 and abs(park["lat"] - 22.8) < 1e-7


def test_projected_coordinates_read_as_lon_lat_ask_for_crs(tmp_path):
    gk = project(PARK_BOX, "EPSG:4545")
    path = write_geojson(tmp_path, [feature(gk, 园区名称="甲", 区划码="450100")], name="gk.geojson")
    bad(lambda: read(GEOJSON_SOURCE, path), "gk.geojson, feature 1, field 'geometry'", "--crs for projected")


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"type": "Topology", "objects": {}}, "TopoJSON"),
        ({"type": "FeatureCollection", "features": {}}, "field 'features'"),
        (
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1]}]},
            "feature 1, field 'properties'",
        ),
        ({"type": "FeatureCollection", "features": []}, "holds no features"),
        ({"type": "FeatureCollection", "features": [], "crs": {"type": "link"}}, "field 'crs'"),
        ([1, 2], "field 'type'"),
    ],
)
def test_documents_that_are_not_feature_collections(tmp_path, document, fragment):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    bad(lambda: read(GEOJSON_SOURCE, path), "doc.json", fragment)


def test_crs_errors(tmp_path):
    named = {"type": "name", "properties": {"name": "EPSG:4490"}}
    path = write_geojson(
        tmp_path, [feature(PARK_BOX, 园区名称="甲", 区划码="450100")], name="c.geojson", crs=named
    )
    bad(
        lambda: read(GEOJSON_SOURCE, path, crs="EPSG:32649"),
        "c.geojson, field 'crs'",
        "CGCS2000",
        "EPSG:32649",
    )
    bad(
        lambda: read(GEOJSON_SOURCE, path, crs="Mars-2000"),
        "c.geojson, field 'crs'",
        "expected WGS84, CGCS2000",
    )


def test_duplicate_keys_and_bad_codes(tmp_path):
    twice = write_geojson(tmp_path, [feature(PARK_BOX, 区划码="450100", 地名="南宁市")] * 2, name="d.geojson")
    bad(lambda: read(GEOJSON_SOURCE, twice), "d.geojson, feature 2, field '区划码'", "feature 1 has it too")
    short = write_geojson(tmp_path, [feature(PARK_BOX, 区划码="4501", 地名="南宁市")], name="s.geojson")
    bad(
        lambda: read(GEOJSON_SOURCE, short, table="regions"),
        "s.geojson, feature 1, field '区划码'",
        "six-digit",
    )
    floors = write_geojson(tmp_path, [feature(BUILDING, 建筑名称="甲", 层数="三层")], name="b.geojson")
    bad(
        lambda: read(GEOJSON_SOURCE, floors, context_with_park(), park_id="nn-etdz"),
        "b.geojson, feature 1, field '层数'",
        "a whole number",
    )


def test_a_file_for_no_known_table(tmp_path):
    path = write_geojson(tmp_path, [feature(PARK_BOX, colour="red")], name="x.geojson")
    bad(lambda: read(GEOJSON_SOURCE, path), "x.geojson", "cannot tell which table")
    bad(lambda: read(GEOJSON_SOURCE, path, table="readings"), "field '--as'")


def test_cut_short_and_incomplete_shapefiles(prefectures_gk, tmp_path):
    for part in prefectures_gk.parent.glob("prefectures.*"):
        shutil.copy(part, tmp_path / part.name)
    shp = tmp_path / "prefectures.shp"
    shp.write_bytes(shp.read_bytes()[:3000])
    bad(lambda: read(SHAPEFILE_SOURCE, shp), "prefectures.shp", "the .shp file is cut short")
    shutil.copy(prefectures_gk, shp)
    dbf = tmp_path / "prefectures.dbf"
    dbf.write_bytes(dbf.read_bytes()[:500])
    bad(lambda: read(SHAPEFILE_SOURCE, shp), "the .dbf file is cut short")
    dbf.unlink()
    bad(lambda: read(SHAPEFILE_SOURCE, shp), "the shapefile's .dbf file is missing")
    not_a_zip = tmp_path / "x.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 not really")
    bad(lambda: read(SHAPEFILE_SOURCE, not_a_zip), "x.zip", "not a readable zip")
    empty_zip = tmp_path / "empty.zip"
    zipfile.ZipFile(empty_zip, "w").close()
    bad(lambda: read(SHAPEFILE_SOURCE, empty_zip), "the zip holds 0 shapefiles")


def test_corrupt_geopackages(tmp_path):
    path = write_layer(
        tmp_path / "p.gpkg", [PARK_BOX], {"园区名称": ["甲"], "区划码": ["450100"]}, "EPSG:4326"
    )
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(path.read_bytes()[:2000])
    bad(lambda: read(GPKG_SOURCE, cut), "cut.gpkg", "not a readable GeoPackage")
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x07" * 500)
    bad(lambda: read(GPKG_SOURCE, junk), "junk.gpkg", "not a readable GeoPackage")


def test_missing_pyogrio_names_the_extra(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_pyogrio(name, *args, **kwargs):
        if name.startswith("pyogrio"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    path = write_layer(
        tmp_path / "p.gpkg", [PARK_BOX], {"园区名称": ["甲"], "区划码": ["450100"]}, "EPSG:4326"
    )
    monkeypatch.setattr(builtins, "__import__", no_pyogrio)
    with pytest.raises(ConfigError, match=r"pip install 'parkbrain\[geo\]'"):
        read(GPKG_SOURCE, path)


# -- sniffing and the import pipeline ---------------------------------------------------------------


def test_sniffing(tmp_path):
    collection = b'{"type": "FeatureCollection", "features": []}'
    assert GEOJSON_SOURCE.sniff(tmp_path / "a.json", collection)
    assert not GEOJSON_SOURCE.sniff(tmp_path / "a.json", b'{"point_id": "x", "ts": 1}\n')
    assert GEOJSON_SOURCE.sniff(tmp_path / "a.geojson", b'{"anything": 1}')
    assert not SHAPEFILE_SOURCE.sniff(tmp_path / "a.xlsx", b"PK\x03\x04")
    assert not GPKG_SOURCE.sniff(tmp_path / "a.gpkg", b"not sqlite")


def test_ingest_writes_regions_and_buildings_through_the_pipeline(park, tmp_path):
    result = park.ingest(GUANGXI)
    assert result.source == "geojson" and result.rows_written == {"regions": 15}
    assert any("钦州市" in n for n in result.notes)
    assert park.ingest(GUANGXI).unchanged
    park.store.write(
        "parks",
        [
            {
                "park_id": "nn-etdz",
                "name": "南宁经开区",
                "region_code": "450100",
                "boundary": json.dumps(mapping(PARK_BOX)),
            }
        ],
    )
    path = write_geojson(tmp_path, [feature(BUILDING, 建筑编号="B1", 建筑名称="1号厂房", 层数=2)])
    assert park.ingest(path).rows_written == {"buildings": 1}
    row = park.store.query_rows(
        "SELECT park_id, source_crs, footprint FROM buildings WHERE building_id = 'B1'"
    )[0]
    assert row["park_id"] == "nn-etdz" and row["source_crs"] == "WGS84" and row["footprint"]
