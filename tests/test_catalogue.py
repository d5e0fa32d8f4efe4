"""Consistency checks for the demo-province reference data (parkbrain.demo.catalogue)."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from parkbrain.demo.catalogue import (
    COMPANY_SUFFIXES,
    INDUSTRIES,
    NAME_PREFIXES,
    PARKS,
    PARKS_BY_ID,
    PREFECTURES,
    IndustrySpec,
    ParkSpec,
)
from tests.conftest import SHARED_DATA

BOUNDARIES = SHARED_DATA / "guangxi-boundaries" / "guangxi_province_prefectures.geojson"

CARRIERS = {"electricity", "natural_gas", "steam", "water", "diesel"}
KINDS = {
    "经济技术开发区",
    "高新技术产业开发区",
    "经济开发区",
    "工业园区",
    "产业园区",
    "综合保税区",
    "边境经济合作区",
}


@pytest.fixture(scope="module")
def prefecture_polygons() -> dict[str, BaseGeometry]:
    if not BOUNDARIES.exists():
        pytest.skip(f"boundary file not found: {BOUNDARIES}")
    data = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    return {
        f["properties"]["区划码"]: make_valid(shape(f["geometry"]))
        for f in data["features"]
        if f["properties"].get("level") == "prefecture"
    }


def test_prefectures() -> None:
    assert sorted(PREFECTURES) == [f"45{i:02d}00" for i in range(1, 15)]
    assert PREFECTURES["450100"] == ("南宁市", "Nanning")
    assert PREFECTURES["451400"] == ("崇左市", "Chongzuo")
    for zh, en in PREFECTURES.values():
        assert zh.endswith("市") and en.isascii() and en


def test_enough_parks_with_unique_ids_and_names() -> None:
    assert len(PARKS) >= 12
    ids = [p.park_id for p in PARKS]
    names = [p.name for p in PARKS]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert {p.park_id: p for p in PARKS} == PARKS_BY_ID
    for pid in ids:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", pid), pid


def test_parks_cover_most_prefectures() -> None:
    assert {p.region_code for p in PARKS} == set(PREFECTURES)


def test_park_fields() -> None:
    for p in PARKS:
        assert isinstance(p, ParkSpec)
        assert p.region_code in PREFECTURES, p.park_id
        assert p.level in {"national", "provincial"}, p.park_id
        assert p.kind in KINDS, p.park_id
        assert p.approved_area_ha > 0, p.park_id
        assert p.approval_year is None or 1984 <= p.approval_year <= 2018, p.park_id
        assert p.leading_industries and all(p.leading_industries), p.park_id
        assert p.short_names and all(p.short_names), p.park_id
        assert p.name_en.isascii() and p.name_en, p.park_id
        assert 104.0 < p.lon < 112.5 and 20.5 < p.lat < 26.5, p.park_id


def test_industry_mix_refers_to_known_industries() -> None:
    for p in PARKS:
        assert p.industry_mix, p.park_id
        codes = [code for code, _ in p.industry_mix]
        assert len(set(codes)) == len(codes), p.park_id
        for code, weight in p.industry_mix:
            assert code in INDUSTRIES, (p.park_id, code)
            assert weight > 0, (p.park_id, code)
        assert math.isclose(sum(w for _, w in p.industry_mix), 1.0), p.park_id


def test_industries() -> None:
    assert 25 <= len(INDUSTRIES) <= 40
    for code, spec in INDUSTRIES.items():
        assert isinstance(spec, IndustrySpec)
        assert spec.code == code
        assert re.fullmatch(r"\d{4}", code), code
        assert spec.name and spec.name_en.isascii()
        assert "electricity" in spec.carriers and set(spec.carriers) <= CARRIERS, code
        assert len(set(spec.carriers)) == len(spec.carriers), code
        assert spec.elec_kwh_per_10k_cny > 0, code
        assert 0 < spec.employees[0] <= spec.employees[1], code
        assert 0 < spec.output_10k_cny[0] <= spec.output_10k_cny[1], code
        assert spec.shifts in {1, 2, 3}, code
        assert 4 <= len(spec.name_words) <= 8 and all(spec.name_words), code
        assert isinstance(spec.energy_intensive, bool), code
    # The codes the demo generator relies on by name.
    for code in ("3216", "3120", "3670", "1340", "2021", "2511", "5920", "6513"):
        assert code in INDUSTRIES, code
    assert INDUSTRIES["3216"].name == "铝冶炼" and INDUSTRIES["3216"].energy_intensive
    assert INDUSTRIES["3120"].name == "炼钢"
    assert INDUSTRIES["3670"].name == "汽车零部件及配件制造"
    assert INDUSTRIES["1340"].name == "制糖业"


def test_every_industry_is_used_by_some_park() -> None:
    used = {code for p in PARKS for code, _ in p.industry_mix}
    assert used == set(INDUSTRIES)


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PARKS[0].name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        INDUSTRIES["3216"].shifts = 1  # type: ignore[misc]


@pytest.mark.parametrize("park", PARKS, ids=lambda p: p.park_id)
def test_park_lies_in_its_prefecture(park: ParkSpec, prefecture_polygons: dict[str, BaseGeometry]) -> None:
    assert park.region_code in prefecture_polygons
    assert prefecture_polygons[park.region_code].contains(Point(park.lon, park.lat)), park.park_id


@pytest.mark.parametrize(
    ("region_code", "needles"),
    [
        ("451000", ("铝",)),  # 百色: aluminium
        ("450200", ("汽车",)),  # 柳州: automobiles
        ("451400", ("糖",)),  # 崇左: sugar
        ("450500", ("电子",)),  # 北海: electronics
        ("450800", ("木", "板材")),  # 贵港: wood / panel board
    ],
)
def test_signature_industries(region_code: str, needles: tuple[str, ...]) -> None:
    assert any(
        needle in industry
        for p in PARKS
        if p.region_code == region_code
        for industry in p.leading_industries
        for needle in needles
    ), region_code


def test_name_parts() -> None:
    assert COMPANY_SUFFIXES == ("有限公司", "股份有限公司", "有限责任公司")
    assert len(NAME_PREFIXES) >= 60
    assert len(set(NAME_PREFIXES)) == len(NAME_PREFIXES)
    assert all(len(prefix) == 2 for prefix in NAME_PREFIXES)
