"""The park data model: USCC check characters, geometry helpers, time parsing and the table specs."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone
from importlib import resources

import pytest
from shapely.geometry import box

from parkbrain.model import CANONICAL_TABLES, is_valid_uscc, make_uscc, table_spec, uscc_check_digit
from parkbrain.model.geo import EARTH_RADIUS_M, area_km2, from_geojson, repair, to_geojson
from parkbrain.model.timeutil import parse_time
from parkbrain.model.uscc import USCC_CHARSET, org_code_check_digit
from tests.conftest import SHARED_DATA

# Codes published on the national enterprise credit information system (企业信用信息公示系统).
REAL_USCCS = [
    "91350100M000100Y43",  # 福建 (福州) — the example code of GB 32100-2015
    "91440300708461136T",  # 华为技术有限公司, 深圳
    "914403001922038216",  # 深圳市 (organisation code 19220382-1)
    "91110000802100433B",  # 北京 (organisation code 80210043-3)
]

GUANGXI_OFFICIAL_KM2 = 237_600
VENDORED_GEOJSON = resources.files("parkbrain") / "data" / "guangxi_prefectures.geojson"
SHARED_GEOJSON = SHARED_DATA / "guangxi-boundaries" / "guangxi_province_prefectures.geojson"


# -- USCC (GB 32100-2015) ---------------------------------------------------------------------------


def _gb11714_check(body: str) -> str:
    """The GB 11714-1997 organisation-code check character, written out independently of the library."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    values = [int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 for ch in body]
    c9 = 11 - sum(v * w for v, w in zip(values, weights)) % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_published_usccs_validate(code):
    assert is_valid_uscc(code)
    assert uscc_check_digit(code[:17]) == code[17]
    assert is_valid_uscc(code.lower())  # case does not matter


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_usccs_embed_a_valid_organisation_code(code):
    assert org_code_check_digit(code[8:16]) == code[16]
    assert _gb11714_check(code[8:16]) == code[16]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_every_single_character_change_is_detected(code):
    changed = 0
    for pos in range(18):
        for ch in USCC_CHARSET + "IOZSV":
            if ch == code[pos]:
                continue
            mutated = code[:pos] + ch + code[pos + 1 :]
            assert not is_valid_uscc(mutated), (pos, ch, mutated)
            changed += 1
    assert changed == 18 * 35


def _gb32100_check(first17: str) -> str:
    """The GB 32100 check character, from the standard's definition (weights 3^i mod 31)."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(charset.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return charset[(31 - total % 31) % 31]


def test_check_digit_known_values():
    assert uscc_check_digit("91350100M000100Y4") == "3"
    assert uscc_check_digit("91440300708461136") == "T"
    # a sum divisible by 31 gives '0', not the 32nd character
    assert uscc_check_digit("91450100000000027") == "0"
    assert is_valid_uscc("914501000000000270")


def test_check_digit_matches_the_standard_on_random_codes():
    rng = random.Random(32100)
    for _ in range(2000):
        first17 = "".join(rng.choice(USCC_CHARSET) for _ in range(17))
        assert uscc_check_digit(first17) == _gb32100_check(first17), first17


@pytest.mark.parametrize(
    "code",
    [
        "",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100M000100Y4O",  # O is not in the charset
        "9135010OM000100Y43",
        None,
        913501000001004,
    ],
)
def test_malformed_codes_are_invalid(code):
    assert is_valid_uscc(code) is False


def test_make_uscc_is_always_valid_and_embeds_the_org_code_check():
    rng = random.Random(20261124)
    regions = ["450000", "450100", "450200", "450700", "451400", "110000", "440300"]
    for _ in range(500):
        region = rng.choice(regions)
        body = "".join(rng.choice(USCC_CHARSET) for _ in range(8))
        code = make_uscc(region, body)
        assert len(code) == 18
        assert is_valid_uscc(code), code
        assert code[:2] == "91"
        assert code[2:8] == region
        assert code[8:16] == body
        assert code[16] == _gb11714_check(body)


def test_make_uscc_rebuilds_the_real_codes():
    for code in REAL_USCCS:
        assert make_uscc(code[2:8], code[8:16], authority=code[0], category=code[1]) == code


def test_make_uscc_uppercases_the_body():
    assert make_uscc("440300", "70846113".lower()) == "91440300708461136T"
    assert make_uscc("350100", "m000100y") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("region", "body"),
    [
        ("45010", "70846113"),  # region too short
        ("4501000", "70846113"),  # region too long
        ("45O100", "70846113"),  # letter in region
        ("450100", "7084611"),  # body too short
        ("450100", "708461134"),  # body too long
        ("450100", "7084611I"),  # I cannot appear in a USCC
        ("450100", "MA5K-XYZ"),
    ],
)
def test_make_uscc_rejects_bad_input(region, body):
    with pytest.raises(ValueError):
        make_uscc(region, body)


@pytest.mark.parametrize("first17", ["", "9135010", "91350100M000100Y43", "91350100M00010OY4"])
def test_check_digit_rejects_bad_input(first17):
    with pytest.raises(ValueError):
        uscc_check_digit(first17)


# -- geometry -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guangxi() -> dict[str, dict]:
    data = json.loads(VENDORED_GEOJSON.read_text(encoding="utf-8"))
    return {f["properties"]["区划码"]: f for f in data["features"]}


def test_vendored_file_holds_guangxi_and_14_prefectures(guangxi):
    levels = [f["properties"]["level"] for f in guangxi.values()]
    assert levels.count("province") == 1
    assert levels.count("prefecture") == 14
    assert guangxi["450000"]["properties"]["地名"] == "广西壮族自治区"
    assert guangxi["450700"]["properties"]["地名"] == "钦州市"


def test_province_and_qinzhou_are_invalid_as_shipped_and_repair_keeps_their_area(guangxi):
    invalid = {code for code, f in guangxi.items() if not from_geojson(f["geometry"]).is_valid}
    assert invalid == {"450000", "450700"}
    for code in sorted(invalid):
        raw = from_geojson(guangxi[code]["geometry"])
        fixed = repair(raw)
        assert fixed.is_valid, code
        assert fixed.geom_type in ("Polygon", "MultiPolygon"), code
        ratio = area_km2(fixed) / area_km2(raw)
        assert 0.99 < ratio <= 1.01, (code, ratio)
        # the repaired shape covers (almost) the same ground, not just the same amount of it
        assert fixed.symmetric_difference(raw.buffer(0)).area / fixed.area < 0.01


def test_repair_leaves_valid_geometry_alone(guangxi):
    nanning = from_geojson(guangxi["450100"]["geometry"])
    assert nanning.is_valid
    assert repair(nanning) is nanning


def test_guangxi_area_is_the_official_figure(guangxi):
    province = repair(from_geojson(guangxi["450000"]["geometry"]))
    area = area_km2(province)
    assert abs(area - GUANGXI_OFFICIAL_KM2) / GUANGXI_OFFICIAL_KM2 < 0.01, area
    prefectures = sum(
        area_km2(repair(from_geojson(f["geometry"])))
        for f in guangxi.values()
        if f["properties"]["level"] == "prefecture"
    )
    assert abs(prefectures - area) / area < 0.01, (prefectures, area)


@pytest.mark.parametrize("lat", [0.0, 22.0, 60.0])
def test_area_km2_is_exact_for_a_one_degree_cell(lat):
    cell = box(108.0, lat, 109.0, lat + 1.0)
    r_km = EARTH_RADIUS_M / 1000
    expected = r_km**2 * math.radians(1.0) * (math.sin(math.radians(lat + 1)) - math.sin(math.radians(lat)))
    assert area_km2(cell) == pytest.approx(expected, rel=1e-9)


def test_geojson_round_trip_rounds_to_precision():
    text = to_geojson(box(108.123456789, 22.8, 108.2, 22.9), precision=5)
    coords = json.loads(text)["coordinates"][0]
    assert [108.12346, 22.8] in [list(c) for c in coords]
    assert from_geojson(text).equals(from_geojson(json.loads(text)))


def test_vendored_file_is_byte_identical_to_the_shared_source():
    if not SHARED_GEOJSON.exists():
        pytest.skip(f"{SHARED_GEOJSON} is not available")
    assert VENDORED_GEOJSON.read_bytes() == SHARED_GEOJSON.read_bytes()


# -- time -----------------------------------------------------------------------------------------

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T08:00:00", datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),  # naive = Asia/Shanghai
        ("2026-11-24 08:00", datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),
        ("2026-11-24T08:00:00Z", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        ("2026-11-24T08:00:00+08:00", datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),
        ("2026-11-24T08:00:00-05:00", datetime(2026, 11, 24, 13, 0, tzinfo=UTC)),
        ("2026-11-24", datetime(2026, 11, 23, 16, 0, tzinfo=UTC)),  # date-only = Shanghai midnight
        ("2026-01-01", datetime(2025, 12, 31, 16, 0, tzinfo=UTC)),
    ],
)
def test_parse_time(text, expected):
    value = parse_time(text)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["yesterday", "2026-13-01", "2026-02-30", "24/11/2026", "2026-11-24T25:00", ""]
)
def test_parse_time_names_the_field(text):
    with pytest.raises(ValueError, match=r"^start: .*ISO 8601"):
        parse_time(text, field="start")


# -- tables ---------------------------------------------------------------------------------------

DESIGN_TABLES = {
    "zones",
    "regions",
    "parks",
    "buildings",
    "enterprises",
    "devices",
    "points",
    "readings",
    "alerts",
}
ABSTRACT_TYPES = {"text", "int", "double", "bool", "timestamp", "json"}


def test_every_canonical_table_of_the_design_is_declared():
    assert {spec.name for spec in CANONICAL_TABLES} == DESIGN_TABLES
    assert len(CANONICAL_TABLES) == len(DESIGN_TABLES)


@pytest.mark.parametrize("spec", CANONICAL_TABLES, ids=lambda s: s.name)
def test_table_specs_are_well_formed(spec):
    names = spec.column_names
    assert len(names) == len(set(names)), "duplicate column"
    assert spec.key and set(spec.key) <= set(names)
    for column in spec.columns:
        assert column.type in ABSTRACT_TYPES, column
        assert column.description
    for key in spec.key:
        assert not next(c for c in spec.columns if c.name == key).nullable, key
    assert table_spec(spec.name) is spec


def test_key_columns_of_the_contract():
    assert table_spec("readings").key == ("point_id", "ts")
    assert table_spec("readings").column_names[:3] == ("point_id", "ts", "value")
    assert "uscc" in table_spec("enterprises").column_names
    assert "value_kind" in table_spec("points").column_names
    with pytest.raises(KeyError):
        table_spec("readings_15m")


def test_times_outside_the_supported_years_are_refused_by_name():
    from parkbrain.model.timeutil import parse_time

    for text in ("0001-01-01", "9999-12-31T23:00:00-12:00", "1899-12-31"):
        with pytest.raises(ValueError, match=r"start: .* is outside the years 1900–2999"):
            parse_time(text, "start")
    assert parse_time("2026-11-29T08:00:00+08:00", "start").isoformat() == "2026-11-29T00:00:00+00:00"
