"""Geography files: Shanghai ships complete, broken files report every problem."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from surveyapp.questionnaires import QuestionnaireError, load_geography, parse_geography

SHANGHAI = Path(__file__).resolve().parent.parent / "questionnaires" / "geography" / "shanghai.yaml"

# From the domain notes (GB/T 2260).
DISTRICTS = {
    "310101": "黄浦区", "310104": "徐汇区", "310105": "长宁区", "310106": "静安区",
    "310107": "普陀区", "310109": "虹口区", "310110": "杨浦区", "310112": "闵行区",
    "310113": "宝山区", "310114": "嘉定区", "310115": "浦东新区", "310116": "金山区",
    "310117": "松江区", "310118": "青浦区", "310120": "奉贤区", "310151": "崇明区",
}
HONGKOU_STREETS = [
    ("欧阳路", "Ouyanglu"), ("曲阳路", "Quyanglu"), ("广中路", "Guangzhonglu"),
    ("嘉兴路", "Jiaxinglu"), ("凉城新村", "Liangchengxincun"), ("四川北路", "Sichuanbeilu"),
    ("北外滩", "Beiwaitan"), ("江湾镇", "Jiangwanzhen"),
]


@pytest.fixture(scope="module")
def shanghai():
    return load_geography(SHANGHAI)


def test_shanghai_has_its_16_districts(shanghai):
    assert {d.code: d.name.zh for d in shanghai.districts} == DISTRICTS
    assert shanghai.district("310115").name.en == "Pudong"


def test_hongkou_has_its_8_streets(shanghai):
    streets = shanghai.district("310109").streets
    assert [(s.name.zh, s.name.en) for s in streets] == [
        (f"{zh}街道", en) for zh, en in HONGKOU_STREETS]


def test_every_district_has_streets_with_local_codes(shanghai):
    for district in shanghai.districts:
        assert len(district.streets) >= 3, district.name.en
        for street in district.streets:
            assert re.fullmatch(rf"{district.code}\d{{3}}", street.code)
            assert street.district_code == district.code
            assert re.search(r"(街道|镇|乡)$", street.name.zh), street.name.zh
            assert shanghai.street(street.code) is street


def test_unknown_codes_are_none(shanghai):
    assert shanghai.district("999999") is None
    assert shanghai.street("310109999") is None


def test_content_hash_is_of_the_file_bytes(shanghai):
    import hashlib

    assert shanghai.content_hash == hashlib.sha256(SHANGHAI.read_bytes()).hexdigest()


BROKEN = """\
schema_version: 1
id: testcity
name: {zh: 测试市}
districts:
  - code: "310109"
    name: {zh: 虹口区, en: Hongkou}
    streets:
      - {code: "310109001", name: {zh: 欧阳路街道, en: Ouyanglu}}
      - {code: "310109001", name: {zh: 曲阳路街道, en: Quyanglu}}
      - {code: "310110001", name: {zh: 定海路街道, en: Dinghailu}}
  - code: "310109"
    name: {zh: 重复, en: Duplicate}
    streets:
      - {code: "310109002", name: {zh: 某街道}}
  - code: 310110
    name: {zh: 杨浦区, en: Yangpu}
    streets: []
"""


def test_broken_geography_reports_every_problem():
    with pytest.raises(QuestionnaireError) as caught:
        parse_geography(BROKEN, "city.yaml")
    assert caught.value.problems == [
        "city.yaml: name.en: missing (required)",
        ("city.yaml: districts[0].streets[1]: duplicate street code '310109001' "
        "(already used by districts[0].streets[0])"),
        ("city.yaml: districts[0].streets[2].code: '310110001' does not belong to district "
        "310109 (expected 310109 followed by 3 digits, as a quoted string)"),
        "city.yaml: districts[1].streets[0].name.en: missing (required)",
        "city.yaml: districts[2].code: expected a non-empty string, got an integer",
        "city.yaml: districts[2].streets: expected at least 1 entry, got 0",
    ]


def test_duplicate_district_codes_are_reported():
    text = BROKEN.replace("{zh: 某街道}", "{zh: 某街道, en: Some}").replace(
        "name: {zh: 测试市}", "name: {zh: 测试市, en: Test}")
    text = text[:text.index("  - code: 310110")]
    text = text.replace('      - {code: "310109001", name: {zh: 曲阳路街道, en: Quyanglu}}\n', "")
    text = text.replace('      - {code: "310110001", name: {zh: 定海路街道, en: Dinghailu}}\n', "")
    with pytest.raises(QuestionnaireError) as caught:
        parse_geography(text, "city.yaml")
    assert caught.value.problems == [
        "city.yaml: districts[1]: duplicate district code '310109' (already used by districts[0])"]
