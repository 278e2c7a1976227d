"""Estimate specs: parsing, defaults, the canonical form, and one message per problem."""
import json

import pytest

from surveyapp.specs import EstimateSpec, Outcome, SpecError, load_spec, parse_spec, spec_from_dict

FULL = """
spec_version: 1
name: Hongkou 2024 weighted
waves: [2023, "2024"]
questionnaire: citizen
outcomes:
  - index
  - dimensions
  - {item: q1}
  - {proportion: index, at_least: 80, name: share_satisfied}
  - {proportion: overall, band: satisfied}
domains: [district, sex]
design: {strata: district, psu: street, lonely_psu: adjust}
weighting:
  method: rake
  margins: demo-2024
  trim: {lower: 0.3, upper: 3}
variance: {method: bootstrap, replicates: 50, seed: 7}
interval: {method: normal, level: 0.9, proportion_method: wilson}
exclusions: {policy: none, min_duration_seconds: 60}
comparisons: consecutive
"""


def test_full_spec_parses_with_numbers_as_wave_labels():
    spec = parse_spec(FULL)
    assert spec.waves == ("2023", "2024")
    assert spec.outcomes[3] == Outcome("proportion", "index", at_least=80.0, name="share_satisfied")
    assert spec.outcomes[4].band == "satisfied" and spec.outcomes[4].name == "share_overall_satisfied"
    assert spec.weighting.trim_lower == 0.3 and spec.weighting.trim_upper == 3.0
    assert spec.variance.replicates == 50 and spec.variance.seed == 7
    assert spec.interval.level == 0.9 and spec.interval.proportion_method == "wilson"
    assert spec.exclusions.min_duration_seconds == 60.0
    assert [(c.from_wave, c.to_wave) for c in spec.comparisons] == [("2023", "2024")]


def test_minimal_spec_gets_documented_defaults():
    spec = parse_spec('{"waves": "2024"}')
    assert spec == EstimateSpec(waves=("2024",))
    assert spec.outcomes == (Outcome("index"),)
    assert spec.weighting.method == "none" and spec.variance.method == "taylor"
    assert spec.design is None and spec.to_dict()["design"] is None  # the wave's declared design
    assert spec.exclusions.policy == "recorded"


def test_a_partial_design_overrides_with_the_documented_defaults():
    design = parse_spec("{waves: 2024, design: {lonely_psu: adjust}}").design
    assert (design.strata, design.psu, design.lonely_psu) == ("district", "street", "adjust")
    assert parse_spec("{waves: 2024, design: null}").design is None


@pytest.mark.parametrize("text", [
    FULL, "waves: 2024", "{waves: 2024, design: {psu: null}}",
    "{waves: 2024, weighting: {method: rake, margins: m, trim: {upper: 4}}}",
])
def test_canonical_form_round_trips(text):
    spec = parse_spec(text)
    again = spec_from_dict(json.loads(spec.to_json()))
    assert again == spec
    assert again.to_json() == spec.to_json()


def test_every_problem_is_listed_with_its_path():
    text = """
waves: []
outcomes: [index, happiness, {proportion: index}]
weighting: {method: ipf, trim: {upper: 0.5}}
variance: {method: taylor, replicates: 10}
interval: {level: 1.5}
colour: blue
comparisons: [{from: "2023", to: "2024"}]
"""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source_name="bad.yaml")
    problems = caught.value.problems
    expected = [
        "bad.yaml: colour: unknown key",
        "bad.yaml: waves: expected at least one wave label",
        "bad.yaml: outcomes[1]: expected one of index, overall, dimensions, items",
        "bad.yaml: outcomes[2]: give exactly one of at_least",
        "bad.yaml: weighting.method: expected one of none, poststratify, rake, calibrate; got 'ipf'",
        "bad.yaml: weighting.trim.upper: expected at least 1",
        "bad.yaml: variance.replicates: only used with method bootstrap",
        "bad.yaml: interval.level: expected a level such as 0.95",
        "bad.yaml: comparisons[0].from: wave '2023' is not in waves",
        "bad.yaml: comparisons[0].to: wave '2024' is not in waves",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected)


@pytest.mark.parametrize("text, message", [
    ("waves: [", "bad.yaml: not valid YAML or JSON at line"),
    ("- 2024", "bad.yaml: expected a mapping"),
    ("outcomes: [index]", "bad.yaml: waves: required"),
    ("waves: 2024\nweighting: {method: rake}", "bad.yaml: weighting.margins: required for method rake"),
    ("waves: 2024\nweighting: {method: poststratify, margins: m}", "bad.yaml: weighting.variables"),
    ("waves: [2024, 2024]", "bad.yaml: waves[1]: wave '2024' is listed twice"),
    ("waves: 2024\nvariance: {method: bootstrap, replicates: 1}", "bad.yaml: variance.replicates"),
    ("waves: 2024\ndomains: [sex, sex]", "bad.yaml: domains[1]: 'sex' is listed twice"),
    ("waves: 2024\noutcomes: [{proportion: index, at_least: 120}]",
     "bad.yaml: outcomes[0].at_least: expected a number between 0 and 100"),
    ("waves: [2023, 2024]\ncomparisons: [{from: 2024, to: 2024}]",
     "bad.yaml: comparisons[0]: compares a wave with itself"),
    ("waves: 2024\nspec_version: 2", "bad.yaml: spec_version: expected 1"),
    ("waves: 2024\ndesign: {lonely_psu: drop}", "bad.yaml: design.lonely_psu: expected one of"),
])
def test_single_problems(text, message):
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source_name="bad.yaml")
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_load_spec_reports_unreadable_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read the spec file"):
        load_spec(tmp_path / "missing.yaml")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"waves": ["2024"], "outcomes": ["index", "dimensions"]}))
    assert load_spec(path).outcomes == (Outcome("index"), Outcome("dimensions"))
