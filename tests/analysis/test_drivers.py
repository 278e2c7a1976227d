"""Key drivers: design-based svyglm, checked against R (api_i_svyglm.json) and closed forms."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis import SurveyDesign
from analysis.drivers import key_drivers
from tests.analysis.reference import RTOL, api, reference

GLM = reference("svyglm")

TRUE = {"dim_product": 0.30, "dim_service": 0.50, "dim_housing": 0.15}
INTERCEPT = 4.0


def synthetic(n=6000, n_psu=120, seed=11):
    """Overall = 4 + 0.30 product + 0.50 service + 0.15 housing + street effect + noise."""
    rng = np.random.default_rng(seed)
    street = rng.integers(0, n_psu, n)
    street_level = rng.normal(0, 6, n_psu)[street]
    dims = {name: np.clip(80 + street_level + rng.normal(0, 8, n), 0, 100) for name in TRUE}
    overall = INTERCEPT + sum(b * dims[name] for name, b in TRUE.items())
    overall = overall + rng.normal(0, 2, n_psu)[street] + rng.normal(0, 5, n)
    return pd.DataFrame({**dims, "overall": overall, "street": [f"S{s:03d}" for s in street],
                         "w": rng.uniform(0.5, 3.0, n)})


def test_known_coefficients_are_recovered():
    result = key_drivers(synthetic(), "overall", list(TRUE), weights="w", cluster="street")
    for name, b in TRUE.items():
        assert abs(result.table.loc[name, "coefficient"] - b) < 0.04, name
        assert result.table.loc[name, "ci_low"] < b < result.table.loc[name, "ci_high"], name
    assert result.table["coefficient"].idxmax() == "dim_service"
    # svyglm's df: PSUs - strata + 1 - parameters
    assert result.n_clusters == 120 and result.df == 119 + 1 - 4 and result.family == "gaussian"


def api_design():
    data = api("apistrat").assign(yes=lambda d: (d["sch.wide"] == "Yes").astype(float))
    return SurveyDesign(data, weights="pw", strata="stype", psu="dnum")


def test_key_drivers_equal_r_svyglm_on_a_stratified_cluster_design():
    ref = GLM["linear_dstrat_clus"]
    result = key_drivers(api_design(), "api00", ["ell", "meals", "mobility"])
    assert_allclose(result.intercept, ref["coefficient"][0], rtol=RTOL)
    for column, key in [("coefficient", "coefficient"), ("se", "se"), ("t", "t"), ("p_value", "p"),
                        ("deff", "deff")]:
        assert_allclose(result.table[column], ref[key][1:], rtol=RTOL, err_msg=column)
    assert result.df == ref["df_residual"]
    half = stats.t.ppf(0.975, ref["df_residual"]) * np.array(ref["se"][1:])
    assert_allclose(result.table["ci_high"] - result.table["ci_low"], 2 * half, rtol=1e-10)


def test_drivers_of_satisfied_or_better_equal_r_logistic_svyglm():
    ref = GLM["logistic_dstrat"]
    data = api("apistrat").assign(yes=lambda d: (d["sch.wide"] == "Yes").astype(float))
    design = SurveyDesign(data, weights="pw", strata="stype", fpc="fpc")
    result = key_drivers(design, "yes", ["ell", "meals"], satisfied_at=1)
    assert result.family == "quasibinomial" and np.isnan(result.r_squared)
    assert_allclose(result.table["coefficient"], ref["coefficient"][1:], rtol=RTOL)
    assert_allclose(result.table["se"], ref["se"][1:], rtol=RTOL)
    assert_allclose(result.table["p_value"], ref["p"][1:], rtol=RTOL)


def test_a_frame_with_weights_and_cluster_is_the_one_stage_design():
    df = synthetic(n=2000, n_psu=40, seed=5)
    from_frame = key_drivers(df, "overall", list(TRUE), weights="w", cluster="street")
    from_design = key_drivers(SurveyDesign(df, weights="w", psu="street"), "overall", list(TRUE))
    pd.testing.assert_frame_equal(from_frame.table, from_design.table)
    with pytest.raises(ValueError, match="give them in the SurveyDesign"):
        key_drivers(SurveyDesign(df, weights="w"), "overall", list(TRUE), weights="w")


def test_standardized_share_and_performance():
    df = synthetic(n=3000, seed=2)
    df.loc[:99, "dim_housing"] = np.nan  # housing unanswered by 100 respondents
    result = key_drivers(df, "overall", list(TRUE), weights="w", cluster="street")
    w = df["w"].to_numpy()
    present = df["dim_housing"].notna().to_numpy()
    assert_allclose(result.table.loc["dim_housing", "performance"],
                    np.average(df.loc[present, "dim_housing"], weights=w[present]), rtol=1e-12)
    assert result.n == 2900
    fitted = df[present]
    def sd(v):
        return np.sqrt(np.cov(v, aweights=fitted["w"], bias=True))
    expected = result.table["coefficient"] * [sd(fitted[c]) for c in TRUE] / sd(fitted["overall"])
    assert_allclose(result.table["standardized"], expected, rtol=1e-10)
    assert_allclose(result.table["share"].sum(), 1.0)


def test_without_cluster_each_respondent_is_a_psu_and_equal_weights_match_ols():
    df = synthetic(n=800, seed=9)
    result = key_drivers(df, "overall", list(TRUE))
    x = np.column_stack([np.ones(len(df)), df[list(TRUE)].to_numpy()])
    beta, rss = np.linalg.lstsq(x, df["overall"].to_numpy(), rcond=None)[:2]
    assert_allclose(result.table["coefficient"], beta[1:], rtol=1e-10)
    assert result.df == 800 - 4 and result.n_clusters == 800
    tss = np.sum((df["overall"] - df["overall"].mean()) ** 2)
    assert_allclose(result.r_squared, 1 - rss[0] / tss, rtol=1e-10)


@pytest.mark.parametrize("kwargs, message", [
    ({"drivers": ["dim_nope"]}, r"no columns \['dim_nope'\]"),
    ({"drivers": []}, "at least one driver"),
    ({"weights": "nope"}, "weights: no column 'nope'"),
    ({"cluster": "one"}, "fewer than 2 PSUs"),
    ({"cluster": "gappy"}, "'gappy' is missing for 1 respondents"),
    ({"level": 95}, "level must lie between 0 and 1"),
])
def test_bad_input_is_rejected_with_a_message(kwargs, message):
    df = synthetic(n=200)
    df["one"] = "S"
    df["gappy"] = df["street"].where(df.index != 5)
    args = {"outcome": "overall", "drivers": list(TRUE)} | kwargs
    with pytest.raises(ValueError, match=message):
        key_drivers(df, **args)


def test_negative_weights_and_constant_outcome_are_rejected():
    df = synthetic(n=200)
    df.loc[0, "w"] = -1
    with pytest.raises(ValueError, match="finite and non-negative"):
        key_drivers(df, "overall", list(TRUE), weights="w")
    df["w"] = 1.0
    df["overall"] = 90.0
    with pytest.raises(ValueError, match="does not vary"):
        key_drivers(df, "overall", list(TRUE), weights="w")
