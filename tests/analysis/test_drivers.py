"""Key drivers: weighted least squares with PSU-clustered errors, checked against closed forms."""
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.drivers import key_drivers

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


def closed_form(df, drivers):
    """Weighted least squares and the cluster sandwich written out in numpy."""
    x = np.column_stack([np.ones(len(df)), df[drivers].to_numpy()])
    y, w = df["overall"].to_numpy(), df["w"].to_numpy()
    bread = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = bread @ (x.T @ (w * y))
    scores = pd.DataFrame(x * (w * (y - x @ beta))[:, None]).groupby(df["street"].to_numpy()).sum()
    g, n, k = len(scores), len(y), x.shape[1]
    meat = scores.to_numpy().T @ scores.to_numpy()
    cov = g / (g - 1) * (n - 1) / (n - k) * bread @ meat @ bread
    return beta, np.sqrt(np.diag(cov)), g


def test_known_coefficients_are_recovered():
    result = key_drivers(synthetic(), "overall", list(TRUE), weights="w", cluster="street")
    for name, b in TRUE.items():
        assert abs(result.table.loc[name, "coefficient"] - b) < 0.04, name
        assert result.table.loc[name, "ci_low"] < b < result.table.loc[name, "ci_high"], name
    assert result.table["coefficient"].idxmax() == "dim_service"
    assert result.n_clusters == 120 and result.df == 119 and result.cov_type == "cluster"


def test_estimates_and_cluster_errors_match_numpy_closed_form():
    df = synthetic(n=2000, n_psu=40, seed=5)
    drivers = list(TRUE)
    beta, se, g = closed_form(df, drivers)
    result = key_drivers(df, "overall", drivers, weights="w", cluster="street")
    assert_allclose(result.intercept, beta[0], rtol=1e-10)
    assert_allclose(result.table["coefficient"], beta[1:], rtol=1e-10)
    assert_allclose(result.table["se"], se[1:], rtol=1e-10)
    t = beta[1:] / se[1:]
    assert_allclose(result.table["p_value"], 2 * stats.t.sf(np.abs(t), g - 1), rtol=1e-8)
    half = stats.t.ppf(0.975, g - 1) * se[1:]
    assert_allclose(result.table["ci_high"] - result.table["ci_low"], 2 * half, rtol=1e-10)


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


def test_without_cluster_uses_hc1_and_equal_weights_match_ols():
    df = synthetic(n=800, seed=9)
    result = key_drivers(df, "overall", list(TRUE))
    x = np.column_stack([np.ones(len(df)), df[list(TRUE)].to_numpy()])
    beta = np.linalg.lstsq(x, df["overall"].to_numpy(), rcond=None)[0]
    assert_allclose(result.table["coefficient"], beta[1:], rtol=1e-10)
    assert result.cov_type == "HC1" and result.df == 800 - 4 and result.n_clusters is None


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
