"""The IFC source: the reader alone, the mapping alone, then the source on the buildingSMART samples."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from parkbrain.errors import BadFile
from parkbrain.sources.base import ImportContext, ImportOptions
from parkbrain.sources.ifc.mapping import (
    GROUND_TOLERANCE_M,
    MappedModel,
    brick_kind,
    dms_to_degrees,
    floor_area_m2,
    floors_above_ground,
    map_coordinates,
    map_model,
)
from parkbrain.sources.ifc.reader import (
    IfcBuilding,
    IfcElement,
    IfcModel,
    IfcSite,
    IfcSpace,
    IfcStorey,
    MapConversion,
)
from tests.conftest import SHARED_DATA

SAMPLES = SHARED_DATA / "ifc-samples"
AIR_TERMINAL = SAMPLES / "air-terminal-element.ifc"
GEOREF = SAMPLES / "geographic-referencing.ifc"
needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="IFC samples not present")
PARK = "p1"


def _ifcopenshell() -> None:
    pytest.importorskip("ifcopenshell")


# -- the reader alone ---------------------------------------------------------------------------------


@needs_samples
def test_reader_converts_inches_to_metres():
    _ifcopenshell()
    from parkbrain.sources.ifc.reader import read_ifc

    model = read_ifc(AIR_TERMINAL)
    assert (model.schema, model.length_unit, model.length_unit_m) == ("IFC4", "inch", pytest.approx(0.0254))
    by_class = {e.ifc_class: e for e in model.elements}
    duct = by_class["IfcDuctSegment"]
    # placed 12, 12, 4 inches from the air terminal, itself at the origin
    assert duct.position_m == pytest.approx((0.3048, 0.3048, 0.1016))
    terminal = by_class["IfcAirTerminal"]
    assert terminal.guid == "1mF0_JbLzBtAZ0GUOlCFEx"
    assert (terminal.type_class, terminal.type_name, terminal.predefined_type) == (
        "IfcAirTerminalType",
        "Acme Diffuser 1234",
        "DIFFUSER",
    )
    assert terminal.properties["Pset_ManufacturerTypeInformation"]["Manufacturer"] == "Acme"
    assert terminal.ancestry[:2] == ("IfcAirTerminal", "IfcFlowTerminal")
    assert terminal.building_guid == model.buildings[0].guid == "1jCJfz2$TF29H$W5cKDgim"


@needs_samples
def test_reader_reads_site_storeys_and_map_conversion():
    _ifcopenshell()
    from parkbrain.sources.ifc.reader import read_ifc

    model = read_ifc(GEOREF)
    assert model.length_unit == "millimetre"
    assert model.sites[0].ref_latitude == (49, 5, 44, 124)
    assert model.sites[0].ref_longitude == (8, 26, 1, 320000)
    building = model.buildings[0]
    assert building.site_guid == model.sites[0].guid
    assert [(s.name, s.elevation_m) for s in building.storeys] == [("Storey 1", pytest.approx(-0.0016))]
    conv = model.map_conversion
    assert (conv.crs_name, conv.eastings, conv.northings, conv.scale) == (
        "EPSG:25832",
        458658.78,
        5438232.79,
        None,
    )
    assert conv.x_axis_ordinate == pytest.approx(0.962691746426)
    proxy = model.elements[0]
    assert (proxy.ifc_class, proxy.storey_guid) == ("IfcBuildingElementProxy", building.storeys[0].guid)


def _half(path: Path, dest: Path) -> Path:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    dest.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    return dest


@needs_samples
def test_reader_refuses_a_truncated_file_naming_its_last_line(tmp_path):
    _ifcopenshell()
    from parkbrain.sources.ifc.reader import read_ifc

    half = _half(AIR_TERMINAL, tmp_path / "half.ifc")  # IfcOpenShell itself opens this without complaint
    with pytest.raises(BadFile) as info:
        read_ifc(half)
    assert "half.ifc" in str(info.value) and "truncated" in str(info.value)
    assert info.value.line == len(half.read_text(encoding="utf-8").splitlines())


@needs_samples
def test_reader_names_the_line_of_an_unknown_entity(tmp_path):
    _ifcopenshell()
    from parkbrain.sources.ifc.reader import read_ifc

    bad = tmp_path / "bad.ifc"
    bad.write_text(
        GEOREF.read_text(encoding="utf-8").replace("= IFCBUILDING(", "= IFCBUILDINGX("), encoding="utf-8"
    )
    with pytest.raises(BadFile) as info:
        read_ifc(bad)
    assert info.value.line == 74 and "IFCBUILDINGX" in str(info.value)


@needs_samples
def test_reader_names_the_line_of_an_unclosed_instance(tmp_path):
    _ifcopenshell()
    from parkbrain.sources.ifc.reader import read_ifc

    lines = GEOREF.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("#100020= IFCSITE("))
    lines[number - 1] = "#100020= IFCSITE('1BPCQAtTW7GhKrUF$Sytrr',#100005,'Site',\n"
    cut = tmp_path / "cut.ifc"
    cut.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(BadFile, match="not closed") as info:
        read_ifc(cut)
    assert info.value.line == number


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name,value\nboiler,3\n", "not an IFC file"),
        (b"PK\x03\x04zipped", "zip archive"),
        (b"ISO-10303-21;\nHEADER;\nENDSEC;\nEND-ISO-10303-21;\n", "no DATA; section"),
        (
            b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\n#1=IFCWALL($);\nEND-ISO-10303-21;\n",
            "not closed by ENDSEC",
        ),
    ],
)
def test_reader_refuses_what_is_not_a_whole_step_file(tmp_path, content, expected):
    from parkbrain.sources.ifc.reader import check_structure

    path = tmp_path / "x.ifc"
    path.write_bytes(content)
    with pytest.raises(BadFile, match=expected):
        check_structure(path, "x.ifc")


# -- the mapping alone --------------------------------------------------------------------------------


def _element(ifc_class: str, ancestry: tuple[str, ...], **kw) -> IfcElement:
    values = dict(
        guid="g1",
        name=None,
        predefined_type=None,
        type_class=None,
        type_name=None,
        building_guid=None,
        storey_guid=None,
        position_m=None,
    )
    values.update(kw)
    return IfcElement(ifc_class=ifc_class, ancestry=ancestry, **values)


FLOW_TERMINAL = ("IfcFlowTerminal", "IfcDistributionFlowElement", "IfcDistributionElement", "IfcElement")


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        (_element("IfcPump", ("IfcPump", "IfcFlowMovingDevice", "IfcDistributionElement")), "Pump"),
        (_element("IfcAirTerminal", ("IfcAirTerminal", *FLOW_TERMINAL)), "Air_Diffuser"),
        (
            _element("IfcFlowMeter", ("IfcFlowMeter", "IfcFlowController"), predefined_type="WATERMETER"),
            "Water_Meter",
        ),
        (_element("IfcFlowMeter", ("IfcFlowMeter", "IfcFlowController")), "Meter"),
        # IFC2X3: a generic occurrence whose type says what it is
        (_element("IfcFlowTerminal", FLOW_TERMINAL, type_class="IfcAirTerminalType"), "Air_Diffuser"),
        (_element("IfcPipeSegment", ("IfcPipeSegment", "IfcFlowSegment", "IfcDistributionElement")), None),
        (
            _element(
                "IfcActuator", ("IfcActuator", "IfcDistributionControlElement", "IfcDistributionElement")
            ),
            "Equipment",
        ),
        (_element("IfcBuildingElementProxy", ("IfcBuildingElementProxy", "IfcBuildingElement")), "Equipment"),
    ],
)
def test_brick_kind_from_the_ifc_class(element, kind):
    assert brick_kind(element) == kind


def _building(**kw) -> IfcBuilding:
    values = dict(
        guid="B1", name="Plant", site_guid="S1", origin_m=(0.0, 0.0, 0.0), storeys=(), spaces=(), area_m2=None
    )
    values.update(kw)
    return IfcBuilding(**values)


def test_floors_count_storeys_at_or_above_ground():
    storeys = tuple(
        IfcStorey(f"s{i}", None, z) for i, z in enumerate((-3.2, GROUND_TOLERANCE_M + 0.1, -0.0016, 0.0, 4.5))
    )
    assert floors_above_ground(_building(storeys=storeys)) == 4
    assert floors_above_ground(_building()) is None


def test_area_is_the_stated_gross_area_else_the_spaces_sum():
    spaces = (IfcSpace("a", "A", None, 10.25), IfcSpace("b", "B", None, 20.0), IfcSpace("c", "C", None, None))
    assert floor_area_m2(_building(spaces=spaces)) == 30.25
    assert floor_area_m2(_building(spaces=spaces, area_m2=1200.0)) == 1200.0
    assert floor_area_m2(_building()) is None


def test_dms_to_degrees():
    assert dms_to_degrees((49, 5, 44, 124)) == pytest.approx(49 + 5 / 60 + 44.000124 / 3600)
    assert dms_to_degrees((-33, -52, -4, -200000)) == pytest.approx(-(33 + 52 / 60 + 4.2 / 3600))
    assert dms_to_degrees((8, 26)) == pytest.approx(8 + 26 / 60)


def _conv(**kw) -> MapConversion:
    values = dict(
        crs_name="EPSG:25832",
        eastings=1000.0,
        northings=2000.0,
        orthogonal_height=0.0,
        x_axis_abscissa=1.0,
        x_axis_ordinate=0.0,
        scale=None,
        map_unit_m=1.0,
    )
    values.update(kw)
    return MapConversion(**values)


def test_map_coordinates_rotate_and_scale():
    assert map_coordinates(_conv(), 0.001, 10.0, 5.0) == pytest.approx((1010.0, 2005.0))
    # local x axis pointing north: local x becomes northing, local y becomes minus easting
    assert map_coordinates(_conv(x_axis_abscissa=0.0, x_axis_ordinate=1.0), 1.0, 10.0, 5.0) == pytest.approx(
        (995.0, 2010.0)
    )
    # an explicit Scale converts project units (mm) to map units (m)
    assert map_coordinates(_conv(scale=0.001), 0.001, 10.0, 0.0) == pytest.approx((1010.0, 2000.0))
    # a map CRS in US survey feet
    assert map_coordinates(_conv(map_unit_m=0.3048006096), 1.0, 3.048006096, 0.0) == pytest.approx(
        (1010.0, 2000.0)
    )


def _model(**kw) -> IfcModel:
    values = dict(
        file="m.ifc",
        schema="IFC4",
        project_name="Project",
        length_unit="metre",
        length_unit_m=1.0,
        sites=(IfcSite("S1", "Site", (22, 49, 0, 0), (108, 19, 0, 0), None),),
        buildings=(_building(),),
        elements=(),
        map_conversion=None,
    )
    values.update(kw)
    return IfcModel(**values)


def test_mapping_rows_ids_and_site_georeference():
    terminal = _element(
        "IfcAirTerminal",
        ("IfcAirTerminal", *FLOW_TERMINAL),
        guid="E1",
        type_name="Acme 12",
        building_guid="B1",
        properties={
            "Pset_ManufacturerTypeInformation": {
                "Manufacturer": "Acme",
                "ModelReference": "1234",
                "ModelLabel": "Diffuser",
            }
        },
    )
    pipe = _element("IfcPipeSegment", ("IfcPipeSegment", "IfcFlowSegment"), guid="E2")
    mapped = map_model(_model(elements=(terminal, pipe)), PARK)
    (building,) = mapped.buildings
    assert building["building_id"] == "p1-ifc-B1" and building["ifc_guid"] == "B1"
    assert (building["lon"], building["lat"], building["source_crs"]) == (
        pytest.approx(108 + 19 / 60),
        pytest.approx(22 + 49 / 60),
        "WGS84",
    )
    assert mapped.source_crs == "WGS84"
    (device,) = mapped.devices
    assert device == {
        "device_id": "p1-ifc-E1",
        "park_id": PARK,
        "building_id": "p1-ifc-B1",
        "kind": "Air_Diffuser",
        "name": "Acme 12",
        "vendor": "Acme",
        "model": "1234",
        "ifc_guid": "E1",
    }
    assert any("1 IfcPipeSegment" in note for note in mapped.notes)


def test_mapping_notes_a_site_far_from_the_map_conversion():
    pytest.importorskip("pyproj")
    # the map conversion puts the building in Karlsruhe, the site says Nanning
    conv = _conv(eastings=458658.78, northings=5438232.79)
    mapped = map_model(_model(map_conversion=conv), PARK)
    assert mapped.buildings[0]["source_crs"] == "EPSG:25832"
    assert mapped.buildings[0]["lat"] == pytest.approx(49.0956, abs=1e-4)
    assert any("km from the IfcMapConversion" in note for note in mapped.notes)


def test_mapping_falls_back_to_the_site_when_the_crs_is_unknown():
    mapped = map_model(_model(map_conversion=_conv(crs_name="local grid")), PARK)
    assert mapped.buildings[0]["source_crs"] == "WGS84"
    assert any("cannot be used" in note for note in mapped.notes)
    assert isinstance(mapped, MappedModel)


# -- the source end to end ------------------------------------------------------------------------------


def _read(path: Path, park_id: str | None = PARK, context: ImportContext | None = None):
    from parkbrain.sources.ifc import IFC_SOURCE

    return IFC_SOURCE.read(path, ImportOptions(park_id=park_id), context or ImportContext.empty())


@needs_samples
def test_source_sniffs_step_files():
    from parkbrain.sources.ifc import IFC_SOURCE

    assert IFC_SOURCE.sniff(GEOREF, GEOREF.read_bytes()[:1024])
    assert IFC_SOURCE.sniff(GEOREF, b"\xef\xbb\xbf\nISO-10303-21;\nHEADER;")
    assert not IFC_SOURCE.sniff(GEOREF, b"name,value\n")


@needs_samples
def test_source_air_terminal_sample():
    _ifcopenshell()
    extract = _read(AIR_TERMINAL)
    assert extract.rows() == {"buildings": 1, "devices": 1}
    device = extract.tables["devices"].to_pylist()[0]
    assert device["ifc_guid"] == "1mF0_JbLzBtAZ0GUOlCFEx"
    assert device["device_id"] == "p1-ifc-1mF0_JbLzBtAZ0GUOlCFEx"
    assert (device["kind"], device["vendor"], device["model"]) == ("Air_Diffuser", "Acme", "1234")
    assert device["building_id"] == "p1-ifc-1jCJfz2$TF29H$W5cKDgim"
    assert any("IfcDuctSegment" in note for note in extract.notes)


@needs_samples
def test_source_georeferences_the_sample_by_its_map_conversion():
    _ifcopenshell()
    pytest.importorskip("pyproj")
    extract = _read(GEOREF)
    building = extract.tables["buildings"].to_pylist()[0]
    assert building["ifc_guid"] == "0cVTYHAI3nGeTXA2X4Gxyo"
    assert building["floors"] == 1  # Storey 1 at -1.6 mm is the ground floor
    assert (building["lon"], building["lat"]) == (
        pytest.approx(8.4337, abs=1e-4),
        pytest.approx(49.0956, abs=1e-4),
    )
    assert building["source_crs"] == extract.source_crs == "EPSG:25832"
    # the IfcSite reference 49°5′44″N 8°26′1″E agrees (within metres here; ~1 km is the bar)
    from parkbrain.sources.ifc.mapping import distance_m

    assert (
        distance_m(building["lon"], building["lat"], 8 + 26 / 60 + 1.32 / 3600, 49 + 5 / 60 + 44 / 3600)
        < 1000
    )
    assert extract.tables["devices"].to_pylist()[0]["kind"] == "Equipment"


@needs_samples
def test_source_converts_inch_offsets_before_georeferencing(tmp_path):
    """The air-terminal sample (inches) given a map conversion and a building 3937 in (100 m) east."""
    _ifcopenshell()
    pytest.importorskip("pyproj")
    text = (
        AIR_TERMINAL.read_text(encoding="utf-8")
        .replace(
            "#326= IFCBUILDING('1jCJfz2$TF29H$W5cKDgim',#209,$,$,$,$,",
            "#326= IFCBUILDING('1jCJfz2$TF29H$W5cKDgim',#209,'Hall',$,$,#902,",
        )
        .replace(
            "ENDSEC;\n\nEND-ISO",
            "#900= IFCPROJECTEDCRS('EPSG:25832',$,$,$,$,$,$);\n"
            "#901= IFCMAPCONVERSION(#212,#900,458658.78,5438232.79,0.,$,$,$);\n"
            "#902= IFCLOCALPLACEMENT($,#904);\n#903= IFCCARTESIANPOINT((3937.00787,0.,0.));\n"
            "#904= IFCAXIS2PLACEMENT3D(#903,$,$);\nENDSEC;\n\nEND-ISO",
        )
    )
    moved = tmp_path / "moved.ifc"
    moved.write_text(text, encoding="utf-8")
    from parkbrain.model.crs import to_wgs84

    building = _read(moved).tables["buildings"].to_pylist()[0]
    lon, lat = to_wgs84([458658.78 + 100.0], [5438232.79], "EPSG:25832")
    assert building["name"] == "Hall"
    assert (building["lon"], building["lat"]) == (
        pytest.approx(lon[0], abs=1e-6),
        pytest.approx(lat[0], abs=1e-6),
    )


@needs_samples
def test_source_rows_fit_the_store(park):
    _ifcopenshell()
    pytest.importorskip("pyproj")
    park.store.write("parks", [{"park_id": PARK, "name": "园区", "region_code": "450100"}])
    extract = _read(GEOREF)
    park.store.write("buildings", extract.tables["buildings"])
    park.store.write("devices", extract.tables["devices"])
    rows = park.store.query_rows("SELECT ifc_guid, floors, source_crs FROM buildings")
    assert rows == [{"ifc_guid": "0cVTYHAI3nGeTXA2X4Gxyo", "floors": 1, "source_crs": "EPSG:25832"}]


@needs_samples
def test_source_refuses_a_truncated_sample(tmp_path):
    _ifcopenshell()
    half = _half(GEOREF, tmp_path / "楼宇-half.ifc")
    with pytest.raises(BadFile, match="楼宇-half.ifc.*truncated"):
        _read(half)


def test_source_refuses_text_that_is_not_ifc(tmp_path):
    path = tmp_path / "notes.ifc"
    path.write_text("这不是IFC文件\njust some notes\n", encoding="utf-8")
    with pytest.raises(BadFile, match="notes.ifc, line 1: this is not an IFC file"):
        _read(path)


@needs_samples
def test_source_needs_a_known_park():
    with pytest.raises(BadFile) as info:
        _read(GEOREF, park_id=None)
    assert info.value.field == "park_id" and "--park" in str(info.value)
    known = ImportContext(lambda: {}, lambda: {"other": {"name": "别的园区"}})
    with pytest.raises(BadFile, match="no park 'p1'"):
        _read(GEOREF, context=known)


@needs_samples
def test_park_ingests_an_ifc_model_idempotently(park, tmp_path):
    _ifcopenshell()
    pytest.importorskip("pyproj")
    park.store.write("parks", [{"park_id": PARK, "name": "园区", "region_code": "450100"}])
    park.ingest(GEOREF, park_id=PARK)
    park.ingest(GEOREF, park_id=PARK)  # the same model again: same ids, nothing added
    rows = park.store.query_rows("SELECT building_id, floors, lon, source_crs FROM buildings")
    assert rows == [
        {
            "building_id": "p1-ifc-0cVTYHAI3nGeTXA2X4Gxyo",
            "floors": 1,
            "lon": pytest.approx(8.4337, abs=1e-4),
            "source_crs": "EPSG:25832",
        }
    ]
    assert park.store.query_rows("SELECT count(*) AS n FROM devices")[0]["n"] == 1
    with pytest.raises(BadFile, match="half.ifc"):
        park.ingest(_half(AIR_TERMINAL, tmp_path / "half.ifc"), park_id=PARK)
    assert park.store.query_rows("SELECT count(*) AS n FROM devices")[0]["n"] == 1


@needs_samples
def test_missing_ifcopenshell_names_the_extra(monkeypatch):
    from parkbrain.errors import ConfigError
    from parkbrain.sources.ifc.reader import read_ifc

    monkeypatch.setitem(sys.modules, "ifcopenshell", None)
    with pytest.raises(ConfigError, match=r"parkbrain\[bim\]"):
        read_ifc(GEOREF)
