"""Design construction: validation, fpc forms, immutability, missing-value policy."""
import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign
from tests.analysis.reference import RTOL, api


def small():
    return pd.DataFrame({"h": ["a", "a", "a", "b", "b", "b"], "psu": [1, 1, 2, 3, 4, 4],
                         "w": [2.0, 2.0, 3.0, 1.0, 1.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0, np.nan, 6.0],
                         "g": ["x", "y", "x", "y", "x", "y"]})


def test_missing_design_variable_is_an_error():
    data = small()
    data.loc[2, "psu"] = np.nan
    with pytest.raises(ValueError, match="'psu' has 1 missing value"):
        SurveyDesign(data, weights="w", strata="h", psu="psu")


def test_unknown_column_is_an_error():
    with pytest.raises(ValueError, match="column 'nope'"):
        SurveyDesign(small(), weights="nope")


def test_negative_weights_are_rejected():
    data = small().assign(w=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        SurveyDesign(data, weights="w")


def test_fpc_must_be_constant_within_strata():
    data = small().assign(N=[10, 11, 10, 20, 20, 20])
    with pytest.raises(ValueError, match="constant"):
        SurveyDesign(data, weights="w", strata="h", psu="psu", fpc="N")


def test_one_fpc_per_stage():
    with pytest.raises(ValueError, match="one fpc column per sampling stage"):
        SurveyDesign(small().assign(N=10), weights="w", psu=["psu", "g"], fpc="N")


def test_fpc_as_fraction_equals_fpc_as_population_size():
    data = api("apistrat")
    data["frac"] = data.groupby("stype")["pw"].transform(lambda s: 1 / s)
    by_count = SurveyDesign(data, weights="pw", strata="stype", fpc="fpc").mean("api00")
    by_frac = SurveyDesign(data, weights="pw", strata="stype", fpc="frac").mean("api00")
    np.testing.assert_allclose(by_frac.se, by_count.se, rtol=RTOL)


def test_missing_analysis_values_are_dropped_not_zero():
    d = SurveyDesign(small(), weights="w", strata="h", psu="psu")
    est = d.mean("y")
    ok = ~small()["y"].isna()
    w, y = small()["w"][ok], small()["y"][ok]
    assert est.estimate == pytest.approx(np.sum(w * y) / np.sum(w))
    assert est.n == 5 and est.df == d.df == 2


def test_missing_by_value_belongs_to_no_domain():
    data = small()
    data.loc[0, "g"] = None
    table = SurveyDesign(data, weights="w", strata="h", psu="psu").mean("y", by="g")
    assert list(table.index) == ["x", "y"] and table["n"].sum() == 4


def test_by_several_columns_gives_a_multiindex():
    table = SurveyDesign(small(), weights="w", strata="h", psu="psu").total("w", by=["h", "g"])
    assert table.index.names == ["h", "g"]
    assert table.loc[("a", "x"), "estimate"] == pytest.approx(2 * 2 + 3 * 3)


def test_weights_are_read_only_and_designs_immutable():
    d = SurveyDesign(small(), weights="w")
    with pytest.raises(ValueError):
        d.weights[0] = 5
    trimmed = d.trim(upper=3.5)
    assert d.weights.max() == 4.0 and trimmed.weights.max() <= 3.5 + 1e-12
    assert trimmed.weights.sum() == pytest.approx(d.weights.sum())


def test_results_report_method_and_level():
    d = SurveyDesign(small(), weights="w", strata="h", psu="psu")
    est = d.mean("y", level=0.9, ci="normal")
    assert (est.method, est.interval, est.level) == ("linearization", "normal", 0.9)
    table = d.mean("y", by="g", level=0.9)
    assert table.attrs["level"] == 0.9 and table.attrs["interval"] == "t"
    with pytest.raises(ValueError, match="ci"):
        d.mean("y", ci="bootstrap")
    with pytest.raises(ValueError, match="level"):
        d.mean("y", level=95)


def test_no_strata_no_psu_is_simple_random_sampling_with_replacement():
    data = pd.DataFrame({"y": [1.0, 2.0, 4.0, 7.0]})
    est = SurveyDesign(data).mean("y")
    assert est.se == pytest.approx(data["y"].std() / 2)
    assert est.df == 3


def test_degenerate_cases_give_nan_or_point_intervals_without_warnings():
    data = small().assign(z=np.nan, yes="Y")
    d = SurveyDesign(data, weights="w", strata="h", psu="psu")
    empty = d.mean("z")
    assert empty.n == 0 and np.isnan(empty.estimate) and np.isnan(empty.se)
    for method in ("logit", "beta", "wilson", "wald", "asin"):
        p = d.proportion("yes", "Y", method=method)
        assert (p.estimate, p.ci_low, p.ci_high) == (1.0, 1.0, 1.0)


def test_rows_with_zero_weight_are_not_counted():
    data = small()
    data.loc[3, "w"] = 0.0  # PSU 3 of stratum b holds only this row
    d = SurveyDesign(data, weights="w", strata="h", psu="psu")
    assert d.mean("y").n == 4 and d.df == 1
    assert d.mean("y", by="g").loc["y", "n"] == 2
