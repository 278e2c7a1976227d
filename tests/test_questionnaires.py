"""Questionnaire files: shipped ones load; broken ones report every problem, never a traceback."""
from __future__ import annotations

import copy
import hashlib
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from analysis.scoring import DimensionRule, ItemRule, score
from surveyapp.cli.questionnaires import questionnaires as questionnaires_cli
from surveyapp.questionnaires import (
    DEFAULT_BANDS,
    QuestionnaireError,
    Text,
    load_questionnaire,
    load_questionnaires,
    parse_questionnaire,
)

QUESTIONNAIRE_DIR = Path(__file__).resolve().parent.parent / "questionnaires"
SHIPPED = ["citizen.yaml", "government.yaml", "public_service.yaml"]

MINIMAL = {
    "schema_version": 1,
    "id": "mini",
    "version": "1",
    "title": {"zh": "测评", "en": "Survey"},
    "intro": {"zh": "您好", "en": "Hello"},
    "scales": [{
        "id": "sat5",
        "points": [{"value": v, "label": {"zh": f"{v}分", "en": f"{v} points"}}
                   for v in range(1, 6)],
        "dont_know": {"value": 99, "label": {"zh": "不了解", "en": "Don't know"}},
    }],
    "dimensions": [{"id": "product", "name": {"zh": "产品质量", "en": "Product quality"}},
                   {"id": "service", "name": {"zh": "服务质量", "en": "Service quality"},
                    "weight": 2}],
    "items": [
        {"id": "p1", "text": {"zh": "食品", "en": "Food"}, "scale": "sat5", "dimension": "product"},
        {"id": "p2", "text": {"zh": "假货多", "en": "Many fakes"}, "scale": "sat5",
         "dimension": "product", "reverse": True},
        {"id": "s1", "text": {"zh": "办事", "en": "Admin"}, "scale": "sat5",
         "dimension": "service", "required": False},
        {"id": "overall", "text": {"zh": "总体", "en": "Overall"}, "scale": "sat5"},
    ],
    "overall_item": "overall",
    "demographics": [
        {"id": "sex", "kind": "choice", "text": {"zh": "性别", "en": "Sex"},
         "choices": [{"value": "male", "label": {"zh": "男", "en": "Male"}},
                     {"value": "female", "label": {"zh": "女", "en": "Female"}}]},
        {"id": "district", "kind": "district", "text": {"zh": "区", "en": "District"}},
        {"id": "street", "kind": "street", "text": {"zh": "街道", "en": "Street"}},
    ],
    "comment": {"text": {"zh": "建议", "en": "Comments"}, "max_length": 200},
    "bands": [
        {"lower": 80, "upper": 100, "label": {"zh": "满意", "en": "Satisfied"}},
        {"lower": 0, "upper": 80, "label": {"zh": "不满意", "en": "Dissatisfied"}},
    ],
}
# "overall" is reserved as a score column, so the minimal file names its overall item "q_all".
MINIMAL["items"][3]["id"] = MINIMAL["overall_item"] = "q_all"


def dump(document: dict) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def problems_of(document: dict, name: str = "mini.yaml") -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(dump(document), name)
    return caught.value.problems


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_questionnaire_loads_with_both_languages(name):
    questionnaire = load_questionnaire(QUESTIONNAIRE_DIR / name)
    assert questionnaire.source_name == name
    assert questionnaire.content_hash == hashlib.sha256(
        (QUESTIONNAIRE_DIR / name).read_bytes()).hexdigest()
    overall = questionnaire.item(questionnaire.overall_item)
    assert overall.dimension is None
    assert all(item.dimension for item in questionnaire.items if item is not overall)
    assert {d.id for d in questionnaire.demographics} == {
        "sex", "age_group", "district", "street", "residence_years"}
    assert questionnaire.comment is not None
    texts = [questionnaire.title, questionnaire.intro] + [i.text for i in questionnaire.items]
    assert all(text.zh != text.en for text in texts)
    assert questionnaire.band_for(90.24).label == Text("满意", "Satisfied")


def test_citizen_questionnaire_follows_the_published_survey():
    citizen = load_questionnaire(QUESTIONNAIRE_DIR / "citizen.yaml")
    assert [d.name.zh for d in citizen.dimensions] == [
        "产品质量", "公共服务与管理质量", "房屋与基础设施质量"]
    assert 12 <= len(citizen.items) <= 15
    assert all(citizen.scale_of(item.id).values == tuple(range(1, 11)) for item in citizen.items)
    assert citizen.scales["sat10"].dont_know.value == 99
    assert citizen.scales["sat10"].answer_values[-1] == 99
    assert [item.id for item in citizen.items if item.reverse] == ["p_fakes"]
    assert citizen.comment.max_length == 500


def test_public_service_has_one_dimension_per_sector():
    monitoring = load_questionnaire(QUESTIONNAIRE_DIR / "public_service.yaml")
    assert [d.name.en for d in monitoring.dimensions] == [
        "Public culture", "Compulsory education", "Elderly care", "Public transport",
        "Express delivery", "Housekeeping services"]
    assert all(2 <= len(monitoring.items_in(d.id)) <= 3 for d in monitoring.dimensions)
    assert monitoring.scales["sat5"].low == 1 and monitoring.scales["sat5"].high == 5


def test_load_questionnaires_reads_the_folder():
    assert [q.id for q in load_questionnaires(QUESTIONNAIRE_DIR)] == [
        "citizen", "government", "public_service"]


def test_load_questionnaires_rejects_the_same_id_and_version_twice(tmp_path):
    (tmp_path / "a.yaml").write_text(dump(MINIMAL), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(dump(MINIMAL), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaires(tmp_path)
    assert caught.value.problems == [
        "b.yaml: id: questionnaire 'mini' version '1' is also defined in a.yaml"]


def test_minimal_questionnaire_defaults():
    mini = parse_questionnaire(dump(MINIMAL), "mini.yaml")
    assert mini.item("p1").required and not mini.item("p1").reverse
    assert not mini.item("s1").required and mini.item("p2").reverse
    assert [d.weight for d in mini.dimensions] == [1.0, 2.0]
    assert mini.items_in("product") == (mini.item("p1"), mini.item("p2"))
    assert mini.demographic("district").choices == ()
    assert mini.demographic("age_group") is None
    with pytest.raises(KeyError):
        mini.item("nope")


def test_every_problem_is_reported_with_file_path_and_reason():
    broken = copy.deepcopy(MINIMAL)
    broken["colour"] = "blue"
    del broken["intro"]
    broken["title"] = {"zh": "测评"}
    broken["scales"][0]["dont_know"]["value"] = 3
    broken["dimensions"].append({"id": "product", "name": {"zh": "重复", "en": "Duplicate"}})
    broken["dimensions"][1]["weight"] = 0
    broken["items"][0]["scale"] = "likert7"
    broken["items"][1]["dimension"] = "housing"
    broken["items"][2]["required"] = "yes"
    broken["items"].append({"id": "p1", "text": {"zh": "再", "en": "Again"}, "scale": "sat5",
                            "dimension": "product"})
    broken["items"].append({"id": "orphan", "text": {"zh": "无", "en": "None"}, "scale": "sat5"})
    broken["demographics"][0]["choices"][1]["value"] = "male"
    broken["demographics"].append({"id": "income", "kind": "choice", "text": {"zh": "收入",
                                                                              "en": "Income"}})
    broken["comment"]["max_length"] = -5
    broken["bands"][0]["lower"] = 85
    assert problems_of(broken, "citizen.yaml") == [
        ("citizen.yaml: colour: unknown key (expected one of: schema_version, id, version, title, "
        "intro, scales, dimensions, items, overall_item, demographics, comment, bands)"),
        "citizen.yaml: intro: missing (required)",
        "citizen.yaml: title.en: missing (required)",
        ("citizen.yaml: scales[0].dont_know.value: 3 lies inside the scale's range 1-5; "
        "the don't-know value must be outside it (e.g. 0 or 99)"),
        "citizen.yaml: dimensions[1].weight: must be a positive number, got 0",
        ("citizen.yaml: dimensions[2]: duplicate dimension id 'product' "
        "(already used by dimensions[0])"),
        "citizen.yaml: items[0].scale: unknown scale 'likert7'",
        "citizen.yaml: items[1].dimension: unknown dimension 'housing'",
        "citizen.yaml: items[2].required: expected true or false, got a string",
        "citizen.yaml: items[4]: duplicate item id 'p1' (already used by items[0])",
        ("citizen.yaml: items[5].dimension: missing; only the overall item (overall_item) "
        "may have no dimension"),
        ("citizen.yaml: demographics[0].choices[1]: duplicate choice value 'male' "
        "(already used by demographics[0].choices[0])"),
        ("citizen.yaml: demographics[3].id: unknown demographic 'income' "
        "(expected one of: sex, age_group, district, street, residence_years)"),
        "citizen.yaml: demographics[3].choices: missing (required for kind 'choice')",
        "citizen.yaml: comment.max_length: must be a positive integer, got -5",
        "citizen.yaml: bands: no band covers 80-85",
    ]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.update(schema_version=2),
     "schema_version: unsupported version 2 (this surveyapp reads version 1)"),
    (lambda d: d.update(id="Citizen Survey"),
     "id: 'Citizen Survey' is not a valid id (lower-case letter, then a-z, 0-9 or _; at most 40)"),
    (lambda d: d.update(version=2024.1),
     ("version: write the version as a quoted string (e.g. '2024.1'), a bare number loses "
     "trailing zeros")),
    (lambda d: d.update(overall_item="p1"),
     "overall_item: item 'p1' must have no dimension (the overall item is scored on its own)"),
    (lambda d: d.update(overall_item="missing"), "overall_item: unknown item 'missing'"),
    (lambda d: d["items"].append({"id": "district", "text": {"zh": "区", "en": "D"},
                                  "scale": "sat5", "dimension": "product"}),
     "items[4].id: 'district' is reserved for a response field"),
    (lambda d: d["dimensions"].append({"id": "housing", "name": {"zh": "房屋", "en": "Housing"}}),
     "dimensions[2]: no item belongs to dimension 'housing'"),
    (lambda d: d["scales"][0]["points"].pop(2),
     ("scales[0].points: point values must be consecutive integers, lowest first "
     "(got [1, 2, 4, 5])")),
    (lambda d: d["scales"][0].update(points=[]),
     "scales[0].points: expected at least 2 entries, got 0"),
    (lambda d: d["demographics"].pop(1), ("demographics: a 'street' question needs a 'district' "
                                         "question too")),
    (lambda d: d["demographics"][1].update(kind="choice"),
     "demographics[1].kind: the 'district' question must have kind 'district'"),
    (lambda d: d["demographics"][2].update(choices=[]),
     ("demographics[2].choices: not allowed for kind 'street' (the choices come from the "
     "geography file)")),
    (lambda d: d["comment"].update(max_length=True),
     "comment.max_length: expected an integer, got true/false"),
    (lambda d: d["comment"].pop("max_length"), "comment.max_length: missing (required)"),
    (lambda d: d["items"][0].pop("scale"), "items[0].scale: missing (required)"),
    (lambda d: d["scales"][0].pop("points"), "scales[0].points: missing (required)"),
    (lambda d: d.update(bands=[]), "bands: expected at least 1 entry, got 0"),
    (lambda d: d["bands"][1]["label"].update(zh=d["bands"][0]["label"]["zh"]),
     ("bands[1].label.zh: the label '满意' is already used by bands[0]; each band needs its "
      "own label")),
    (lambda d: d["bands"][1].update(upper=90), "bands: bands overlap on 80-90"),
    (lambda d: d["bands"][0].update(upper=120),
     "bands[0]: 80-120 is not a range within 0-100 (need 0 <= lower < upper <= 100)"),
    (lambda d: d["bands"][1].update(lower=10), "bands: no band covers 0-10"),
    (lambda d: d.update(items="p1, p2"), "items: expected a list, got a string"),
    (lambda d: d["dimensions"][0].update(weight=math.inf),
     "dimensions[0].weight: expected a finite number, got inf"),
    (lambda d: d["bands"][0].update(lower="eighty"),
     "bands[0].lower: expected a finite number, got a string"),
    (lambda d: d["items"][0]["text"].update(fr="Nourriture"),
     "items[0].text.fr: unknown key (expected one of: zh, en)"),
])
def test_single_problem_is_named_exactly(change, problem):
    broken = copy.deepcopy(MINIMAL)
    change(broken)
    assert problems_of(broken) == [f"mini.yaml: {problem}"]


def test_invalid_entry_is_not_reported_again_where_it_is_used():
    broken = copy.deepcopy(MINIMAL)
    broken["scales"][0]["points"][0]["label"] = "one"
    assert problems_of(broken) == [
        ("mini.yaml: scales[0].points[0].label: expected a text in both languages, "
        "{zh: ..., en: ...}, got a string")]


def test_yaml_syntax_error_names_the_line():
    text = dump(MINIMAL).replace("id: mini", "id: [mini")
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, "mini.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("mini.yaml: line ") and "invalid YAML" in problem


@pytest.mark.parametrize("stored", [False, True])
def test_duplicate_yaml_keys_are_reported_with_their_line(stored):
    text = "schema_version: 1\nid: a\nid: b\n"
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, "dup.yaml", stored=stored)
    assert caught.value.problems == ["dup.yaml: line 3: duplicate key 'id'"]


@pytest.mark.parametrize("path", sorted(QUESTIONNAIRE_DIR.glob("*.yaml")),
                         ids=lambda path: path.name)
def test_stored_text_parses_to_the_questionnaire_the_upload_gave(path):
    """A stored version's text is parsed by libyaml's parser (fast); what it gives must be
    exactly what the bounded pure-Python loader gave when the text was first read."""
    text = path.read_text(encoding="utf-8")
    assert parse_questionnaire(text, path.name, stored=True) == parse_questionnaire(text, path.name)


@pytest.mark.parametrize(("text", "problem"), [
    ("", "mini.yaml: (top level): expected a mapping, got nothing (null)"),
    ("- 1\n- 2\n", "mini.yaml: (top level): expected a mapping, got a list"),
])
def test_document_that_is_not_a_mapping(text, problem):
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, "mini.yaml")
    assert caught.value.problems == [problem]


def test_content_hash_changes_with_any_byte(tmp_path):
    text = dump(MINIMAL)
    first = parse_questionnaire(text, "mini.yaml")
    assert first.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert parse_questionnaire(text + " ", "mini.yaml").content_hash != first.content_hash
    path = tmp_path / "mini.yaml"
    path.write_bytes(text.encode())
    assert load_questionnaire(path).content_hash == first.content_hash


def test_a_questionnaire_without_bands_gets_the_documented_default():
    without = copy.deepcopy(MINIMAL)
    without.pop("bands")
    questionnaire = parse_questionnaire(yaml.safe_dump(without, allow_unicode=True), "q.yaml")
    assert questionnaire.bands == DEFAULT_BANDS
    shipped = load_questionnaire(QUESTIONNAIRE_DIR / "citizen.yaml")
    assert shipped.bands == DEFAULT_BANDS  # today's cut-offs: the default changes nothing
    assert [b.lower for b in DEFAULT_BANDS] == [90, 80, 60, 40, 0]  # best first


def test_bands_come_best_first_whatever_the_file_order():
    reordered = copy.deepcopy(MINIMAL)
    reordered["bands"] = [{"lower": 0, "upper": 60, "label": {"zh": "不满意", "en": "Poor"}},
                          {"lower": 80, "upper": 100, "label": {"zh": "满意", "en": "Good"}},
                          {"lower": 60, "upper": 80, "label": {"zh": "比较满意", "en": "Fair"}}]
    questionnaire = parse_questionnaire(yaml.safe_dump(reordered, allow_unicode=True), "q.yaml")
    assert [b.label.en for b in questionnaire.bands] == ["Good", "Fair", "Poor"]
    assert questionnaire.band_for(80).label.zh == "满意"  # >= 80 满意, as the national monitor


@pytest.mark.parametrize(("score", "english"), [
    (100, "Satisfied"), (90, "Satisfied"), (89.99, "Fairly satisfied"), (80, "Fairly satisfied"),
    (60, "Neutral"), (59.5, "Fairly dissatisfied"), (40, "Fairly dissatisfied"),
    (39.99, "Dissatisfied"), (0, "Dissatisfied"),
])
def test_band_for_uses_half_open_bands(score, english):
    citizen = load_questionnaire(QUESTIONNAIRE_DIR / "citizen.yaml")
    assert citizen.band_for(score).label.get("en") == english


@pytest.mark.parametrize("score", [None, math.nan, -0.1, 100.5])
def test_band_for_missing_or_impossible_score_is_none(score):
    assert load_questionnaire(QUESTIONNAIRE_DIR / "citizen.yaml").band_for(score) is None


def test_text_get_defaults_to_chinese():
    text = Text(zh="满意", en="Satisfied")
    assert (text.get("zh"), text.get("en"), text.get("en_GB"), text.get("zh_Hans_CN")) == (
        "满意", "Satisfied", "Satisfied", "满意")


def test_to_scoring_spec_carries_ranges_reverse_and_dont_know():
    spec = parse_questionnaire(dump(MINIMAL), "mini.yaml").to_scoring_spec()
    assert spec.overall_item == "q_all"
    assert spec.dimensions == (DimensionRule("product", 1.0), DimensionRule("service", 2.0))
    assert spec.items[1] == ItemRule("p2", 1, 5, dimension="product", reverse=True,
                                     missing_values=(99,))
    assert spec.items[3] == ItemRule("q_all", 1, 5, missing_values=(99,))


def test_citizen_spec_scores_a_response():
    citizen = load_questionnaire(QUESTIONNAIRE_DIR / "citizen.yaml")
    answers = {item.id: 10 for item in citizen.items} | {"p_fakes": 1, "h_roads": 99}
    scores = score(pd.DataFrame([answers]), citizen.to_scoring_spec()).iloc[0]
    assert scores["index"] == pytest.approx(100)
    assert math.isnan(scores["item_h_roads"])


def test_cli_check_prints_every_problem_and_fails(tmp_path):
    broken = copy.deepcopy(MINIMAL)
    broken["items"][0]["scale"] = "likert7"
    broken["comment"]["max_length"] = 0
    (tmp_path / "citizen.yaml").write_text(dump(broken), encoding="utf-8")
    result = CliRunner().invoke(questionnaires_cli, ["check", str(tmp_path / "citizen.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "ERROR citizen.yaml: items[0].scale: unknown scale 'likert7'",
        "ERROR citizen.yaml: comment.max_length: must be a positive integer, got 0",
    ]


def test_cli_check_accepts_the_shipped_folder():
    result = CliRunner().invoke(questionnaires_cli, ["check", str(QUESTIONNAIRE_DIR)])
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        f"OK {QUESTIONNAIRE_DIR / name}" for name in SHIPPED
    ] + [f"OK {QUESTIONNAIRE_DIR / 'geography' / 'shanghai.yaml'}"]


def test_cli_check_is_registered_on_the_surveyapp_command(monkeypatch):
    from surveyapp.cli import main

    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # FlaskGroup sets it; restore afterwards
    result = CliRunner().invoke(main, ["questionnaires", "check",
                                       str(QUESTIONNAIRE_DIR / "citizen.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK ")


def test_one_root_cause_is_one_line():
    """A scale declared with a bad id, or a scale that is missing, is one problem, not one per
    item that uses it (citizen.yaml gave 13 lines for 'Sat10')."""
    text = (QUESTIONNAIRE_DIR / "citizen.yaml").read_text(encoding="utf-8")
    with pytest.raises(QuestionnaireError) as bad_id:
        parse_questionnaire(text.replace("- id: sat10", "- id: Sat10", 1), "citizen.yaml")
    assert bad_id.value.problems == [
        ("citizen.yaml: scales[0].id: 'Sat10' is not a valid id (lower-case letter, then a-z, "
        "0-9 or _; at most 40)")]
    with pytest.raises(QuestionnaireError) as missing:
        parse_questionnaire(text.replace("- id: sat10", "- id: satisfaction", 1), "citizen.yaml")
    uses = text.count("scale: sat10")
    assert missing.value.problems == [
        f"citizen.yaml: items[0].scale: unknown scale 'sat10' (and {uses - 1} more uses)"]
