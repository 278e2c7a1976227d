"""Scoring: 0-100 items, reverse coding, don't-know as missing, dimension means and the index."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import scoring
from analysis.scoring import DimensionRule, ItemRule, ScoringSpec, score

DK = 99

SPEC = ScoringSpec(
    items=(
        ItemRule("q1", 1, 10, dimension="product", missing_values=(DK,)),
        ItemRule("q2", 1, 10, dimension="product", reverse=True, missing_values=(DK,)),
        ItemRule("q3", 1, 5, dimension="service"),
        ItemRule("q4", 1, 5, dimension="service"),
        ItemRule("q5", 1, 5, dimension="service"),
        ItemRule("overall", 1, 10, missing_values=(DK,)),
    ),
    dimensions=(DimensionRule("product", weight=2.0), DimensionRule("service", min_answered=2)),
    overall_item="overall",
)


def frame(rows):
    return pd.DataFrame(rows, columns=["q1", "q2", "q3", "q4", "q5", "overall"], dtype=float)


def test_item_scores_follow_the_formula_and_reverse_coding():
    out = score(frame([[1, 1, 1, 3, 5, 10], [10, 10, 5, 4, 2, 1]]), SPEC)
    assert_allclose(out["item_q1"], [0.0, 100.0])
    assert_allclose(out["item_q2"], [100.0, 0.0])  # reversed: (high - x) / (high - low)
    assert_allclose(out["item_q4"], [50.0, 75.0])
    assert_allclose(out["overall"], [100.0, 0.0])
    assert_allclose(out["item_q3"], [0.0, 100.0])
    # 10-point scale: (x - 1) / 9 * 100
    assert_allclose(score(frame([[4, 1, 1, 1, 1, 7]]), SPEC)["item_q1"], [300 / 9])


def test_dont_know_and_unanswered_are_missing_not_zero():
    out = score(frame([[DK, 10, 5, 5, 5, DK], [np.nan, np.nan, 5, 5, 5, 10]]), SPEC)
    assert np.isnan(out.loc[0, "item_q1"]) and np.isnan(out.loc[0, "overall"])
    assert out.loc[0, "dim_product"] == 0.0  # q2 alone: reversed 10 -> 0; q1 (don't know) ignored
    assert np.isnan(out.loc[1, "dim_product"])
    # index falls back to the dimensions present, renormalising weights: service alone = 100
    assert out.loc[1, "index"] == 100.0


def test_dimension_needs_min_answered_items():
    out = score(frame([[5, 5, 5, np.nan, np.nan, 5], [5, 5, 5, 3, np.nan, 5]]), SPEC)
    assert np.isnan(out.loc[0, "dim_service"])
    assert_allclose(out.loc[1, "dim_service"], (100 + 50) / 2)


def test_index_is_the_weighted_mean_of_dimensions():
    out = score(frame([[10, 10, 5, 5, 5, 10], [np.nan, np.nan, np.nan, np.nan, 1, 1]]), SPEC)
    product = (100 + 0) / 2
    assert_allclose(out.loc[0, "index"], (2 * product + 1 * 100) / 3)
    assert np.isnan(out.loc[1, "index"])  # no dimension has a score


def test_output_keeps_the_index_and_column_layout():
    answers = frame([[1, 1, 1, 1, 1, 1]])
    answers.index = pd.Index(["r-17"])
    out = score(answers, SPEC)
    assert list(out.index) == ["r-17"]
    assert list(out.columns) == [
        "item_q1", "item_q2", "item_q3", "item_q4", "item_q5", "item_overall",
        "dim_product", "dim_service", "index", "overall",
    ]


def test_nullable_integer_columns_are_accepted():
    answers = frame([[1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2]]).astype("Int64")
    answers.loc[1, "q1"] = pd.NA
    out = score(answers, SPEC)
    assert np.isnan(out.loc[1, "item_q1"])


@pytest.mark.parametrize("bad", [0, 11, 4.5, 98])
def test_values_off_the_scale_are_an_error_naming_the_item(bad):
    with pytest.raises(ValueError, match=r"item 'q1'.*from 1 to 10 or one of the don't-know codes \[99\]"):
        score(frame([[bad, 1, 1, 1, 1, 1]]), SPEC)


def test_missing_item_column_is_an_error():
    with pytest.raises(ValueError, match=r"lack the item columns \['q5'\]"):
        score(frame([[1, 1, 1, 1, 1, 1]]).drop(columns="q5"), SPEC)


def test_text_answers_are_an_error_naming_the_item():
    answers = frame([[1, 1, 1, 1, 1, 1]]).astype(object)
    answers.loc[0, "q3"] = "good"
    with pytest.raises(ValueError, match=r"item 'q3': answers must be numeric"):
        score(answers, SPEC)


@pytest.mark.parametrize("items, dimensions, overall, message", [
    ((ItemRule("a", 1, 5, "d"), ItemRule("a", 1, 5, "d")), (DimensionRule("d"),), None, "used 2 times"),
    ((ItemRule("a", 5, 5, "d"),), (DimensionRule("d"),), None, "low \\(5\\) must be below high"),
    ((ItemRule("a", 1, 5, "x"),), (DimensionRule("d"),), None, "unknown dimension 'x'"),
    ((ItemRule("a", 1, 5, "d", missing_values=(3,)),), (DimensionRule("d"),), None, "inside the scale"),
    ((ItemRule("a", 1, 5, "d"),), (DimensionRule("d", weight=0),), None, "positive number"),
    ((ItemRule("a", 1, 5, "d"),), (DimensionRule("d", min_answered=2),), None, "min_answered"),
    ((ItemRule("a", 1, 5, "d"),), (DimensionRule("d"), DimensionRule("e")), None, "'e' has no items"),
    ((ItemRule("a", 1, 5, "d"),), (DimensionRule("d"),), "o", "overall item 'o' is not among"),
    ((ItemRule("a", 1, 5, "d"),), (DimensionRule("d"),), "a", "must not belong to a dimension"),
])
def test_inconsistent_specs_are_rejected(items, dimensions, overall, message):
    with pytest.raises(ValueError, match=message):
        ScoringSpec(items, dimensions, overall)


def test_vectorised_result_matches_a_row_by_row_reference():
    rng = np.random.default_rng(3)
    raw = rng.integers(1, 11, size=(500, 6)).astype(float)
    raw[:, 2:5] = rng.integers(1, 6, size=(500, 3))
    raw[rng.random((500, 6)) < 0.2] = np.nan
    dk = rng.random(500) < 0.1
    raw[dk, 0] = DK
    out = score(frame(raw), SPEC)
    for i, row in enumerate(raw):
        q1 = np.nan if row[0] in (DK,) or np.isnan(row[0]) else (row[0] - 1) / 9 * 100
        q2 = (10 - row[1]) / 9 * 100
        service = [(v - 1) / 4 * 100 for v in row[2:5] if not np.isnan(v)]
        product = [v for v in (q1, q2) if not np.isnan(v)]
        dims = {"product": (np.mean(product), 2.0) if product else None,
                "service": (np.mean(service), 1.0) if len(service) >= 2 else None}
        present = [v for v in dims.values() if v is not None]
        expected = (sum(s * w for s, w in present) / sum(w for _, w in present)) if present else np.nan
        assert_allclose(out["index"].iloc[i], expected, rtol=1e-12)


def test_scoring_in_row_blocks_gives_the_whole_frame_result(monkeypatch):
    rng = np.random.default_rng(4)
    raw = rng.integers(1, 6, size=(10, 6)).astype(float)
    raw[rng.random((10, 6)) < 0.3] = np.nan
    whole = score(frame(raw), SPEC)
    monkeypatch.setattr(scoring, "_BLOCK_ROWS", 3)
    pd.testing.assert_frame_equal(score(frame(raw), SPEC), whole)
    raw[8, 1], raw[2, 1] = 12, 0  # off-scale values in two blocks: both are reported
    with pytest.raises(ValueError, match=r"item 'q2': values \[0.0, 12.0\] are not answers"):
        score(frame(raw), SPEC)


def test_blocks_scored_side_by_side_give_the_one_thread_result(monkeypatch):
    """Blocks scored on several threads fill the same frame as one after another, and an
    off-scale answer is reported for the first block that has one, whichever finishes first."""
    rng = np.random.default_rng(5)
    raw = rng.integers(1, 6, size=(200, 6)).astype(float)
    raw[rng.random((200, 6)) < 0.2] = np.nan
    raw[rng.random(200) < 0.1, 0] = DK
    monkeypatch.setattr(scoring, "_BLOCK_ROWS", 7)
    monkeypatch.setattr(scoring, "SCORING_THREADS", 1)
    alone = score(frame(raw), SPEC)
    monkeypatch.setattr(scoring, "SCORING_THREADS", 4)
    pd.testing.assert_frame_equal(score(frame(raw), SPEC), alone)
    raw[190, 0], raw[30, 3] = 11, 6  # q1 off the scale in a late block, q4 in an early one
    with pytest.raises(ValueError, match=r"item 'q4': values \[6.0\] are not answers"):
        score(frame(raw), SPEC)
