"""Composite quality index: weights, index, ranks and rank ranges against base R.

tests/analysis/r/composite_index.R computes every reference value from the published formulas
(entropy weight method; CRITIC, Diakoulaki et al. 1995) in base R, on invented demo numbers
(tests/analysis/data/composite_indicators.csv); the tests never run R.
"""
import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.composite_index import (
    Indicator,
    composite_index,
    critic_weights,
    entropy_weights,
    sensitivity,
)
from tests.analysis.reference import DATA_DIR

TOL = 1e-12
REFERENCE = json.loads((DATA_DIR / "composite_index.json").read_text())
VALUES = pd.read_csv(DATA_DIR / "composite_indicators.csv", dtype={"district": str}
                     ).set_index("district")
TARGETS = {"product_pass_rate": 98, "food_pass_rate": 99, "complaints_per_10k": 6}
FIXED = {"survey_index": 0.4, "product_pass_rate": 0.15, "food_pass_rate": 0.15,
         "complaints_per_10k": 0.1, "standards_led": 0.1, "brand_certified": 0.1}
CASES = {"minmax_entropy": ("minmax", "entropy"), "minmax_critic": ("minmax", "critic"),
         "zscore_critic": ("zscore", "critic"), "target_entropy": ("target", "entropy"),
         "minmax_fixed": ("minmax", "fixed")}


def indicators(**extra):
    return [Indicator(key, "cost" if key in REFERENCE["cost"] else "benefit",
                      target=TARGETS.get(key), weight=extra.get("weights", {}).get(key))
            for key in VALUES.columns]


@pytest.mark.parametrize("case", CASES)
def test_weights_index_ranks_and_rank_ranges_match_r(case):
    normalisation, weighting = CASES[case]
    expected = REFERENCE["cases"][case]
    result = composite_index(VALUES, indicators(weights=FIXED), normalisation, weighting)
    assert_allclose(result.weights[list(expected["weights"])], list(expected["weights"].values()),
                    rtol=TOL)
    districts = REFERENCE["districts"]
    assert_allclose(result.table.loc[districts, "index"], expected["index"], rtol=TOL, atol=TOL)
    assert list(result.table.loc[districts, "rank"]) == expected["rank"]
    for column in ("rank", "best", "worst"):
        assert list(result.rank_range.loc[districts, column]) == expected["range"][column]


def test_min_max_scores_match_r():
    result = composite_index(VALUES, indicators(), "minmax", "entropy")
    for key, expected in REFERENCE["minmax_scores"].items():
        assert_allclose(result.scores.loc[REFERENCE["districts"], key], expected, atol=TOL)


def test_contributions_add_up_to_the_index_and_the_table_is_ranked():
    result = composite_index(VALUES, indicators(), "minmax", "critic")
    assert_allclose(result.contributions.sum(axis=1), result.table["index"], rtol=1e-14)
    assert list(result.table.index) == list(result.contributions.index)
    assert result.table["rank"].is_monotonic_increasing
    assert result.table["index"].is_monotonic_decreasing


def test_an_indicator_spread_evenly_gets_no_entropy_weight_by_hand():
    # Column a takes 0 and 1 equally often: p = 1/2 twice, e = ln 2 / ln 4 = 1/2. Column b is
    # 0, 0, 0, 1: p = 1 once, e = 0. So d = (1/2, 1), weights (1/3, 2/3).
    scores = pd.DataFrame({"a": [0.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 0.0, 1.0]})
    assert_allclose(entropy_weights(scores), [1 / 3, 2 / 3], rtol=1e-14)


def test_critic_of_two_opposed_indicators_by_hand():
    # r = -1: each column's conflict is (1 - 1) + (1 - (-1)) = 2; equal SDs, so equal weights.
    scores = pd.DataFrame({"a": [0.0, 0.5, 1.0], "b": [1.0, 0.5, 0.0]})
    assert_allclose(critic_weights(scores), [0.5, 0.5], rtol=1e-14)


def test_sensitivity_keeps_weights_summing_to_one():
    result = composite_index(VALUES, indicators(), "minmax", "entropy")
    table = result.sensitivity
    assert set(table["change"].round(12)) == {-0.2, 0.2}
    for (key, change), rows in table.groupby(["indicator", "change"]):
        assert_allclose(rows["weight"].iloc[0], result.weights[key] * (1 + change), rtol=1e-14)
    _, ranges = sensitivity(result.scores, result.weights, 0.2)
    assert (ranges["best"] <= ranges["rank"]).all() and (ranges["rank"] <= ranges["worst"]).all()


@pytest.mark.parametrize("mutate, message", [
    (lambda v: v.assign(food_pass_rate=97.0), "same value in every district"),
    (lambda v: v.assign(survey_index=v["survey_index"].where(v.index != "310101")),
     "missing or not finite for 310101 survey_index"),
    (lambda v: v.iloc[:2], "at least 3 districts"),
    (lambda v: v.drop(columns="brand_certified"), "no column brand_certified"),
])
def test_unusable_tables_are_refused_with_the_reason(mutate, message):
    with pytest.raises(ValueError, match=message):
        composite_index(mutate(VALUES), indicators(), "minmax", "entropy")


def test_declared_choices_are_checked():
    with pytest.raises(ValueError, match="normalisation must be one of"):
        composite_index(VALUES, indicators(), "rank", "entropy")
    with pytest.raises(ValueError, match="weights must be one of"):
        composite_index(VALUES, indicators(), "minmax", "ahp")
    partial = [*indicators()[:-1], Indicator("brand_certified", weight=1.0)]
    with pytest.raises(ValueError, match="no fixed weight for survey_index"):
        composite_index(VALUES, partial, "minmax", "fixed")
    negative = [Indicator(i.key, i.direction, weight=-1.0) for i in indicators()]
    with pytest.raises(ValueError, match="positive number"):
        composite_index(VALUES, negative, "minmax", "fixed")


def test_equal_fixed_weights_without_declared_weights():
    result = composite_index(VALUES, indicators(), "minmax", "fixed")
    assert_allclose(result.weights, np.full(6, 1 / 6))


@pytest.mark.parametrize("lang, normalisation", [("zh", "minmax"), ("en", "zscore")])
def test_contribution_chart_renders_without_missing_glyphs(lang, normalisation):
    import io
    import warnings

    from analysis.composite_plots import contribution_chart

    result = composite_index(VALUES, indicators(), normalisation, "entropy")
    figure = contribution_chart(result, {"310109": "虹口区"}, {"survey_index": "市民满意度"},
                                lang=lang)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    assert len(figure.axes[0].patches) == VALUES.size  # one segment per district and indicator
