"""Weighting on synthetic data: R's algorithms written out row by row as an independent oracle.

The engine computes raking on aggregated cells and the variance adjustments on grouped sums;
here the same R code (postStratify, rake, calibrate, svyrecvar) is transcribed literally with
one row per unit and an n x D influence matrix, for domains and chained weighting steps.
"""
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import RakingConvergenceWarning, SurveyDesign


def sample(n=400, seed=11):
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 4, n)
    return pd.DataFrame({
        "h": h, "psu": h * 10 + rng.integers(0, 6, n), "w": rng.uniform(1, 5, n),
        "sex": rng.choice(["F", "M"], n), "age": rng.choice(["a", "b", "c"], n),
        "dist": rng.choice(["x", "y", "z"], n), "inc": rng.gamma(2, 10, n),
        "y": rng.normal(70, 15, n), "dom": rng.choice(["p", "q", "r", "s"], n)})


def design(data):
    return SurveyDesign(data, weights="w", strata="h", psu="psu")


def codes(data, cols):
    return pd.Series(list(zip(*[data[c] for c in cols]))).factorize()[0]


def brute_influence(data, w, y="y", by="dom"):
    labels = sorted(data[by].unique())
    x = np.zeros((len(data), len(labels)))
    for j, lab in enumerate(labels):
        m = (data[by] == lab).to_numpy()
        ybar = np.sum(w[m] * data[y][m]) / w[m].sum()
        x[m, j] = w[m] * (data[y][m] - ybar) / w[m].sum()
    return x


def brute_se(data, x):
    totals = pd.DataFrame(x).groupby([data["h"].to_numpy(), data["psu"].to_numpy()]).sum()
    v = 0
    for _, t in totals.groupby(level=0):
        k = len(t)
        v = v + k / (k - 1) * ((t - t.mean()) ** 2).sum()
    return np.sqrt(v.to_numpy())


def brute_poststrat(w, cat, target):
    w_new = w.copy()
    for c, total in target.items():
        w_new[cat == c] *= total / w[cat == c].sum()
    return w_new


def poststrat_adjust(x, cat, psw, oldw):
    out = x.copy()
    for c in np.unique(cat):
        m = cat == c
        out[m] -= psw[m, None] * (x[m] * (oldw[m] / psw[m])[:, None]).sum(0) / oldw[m].sum()
    return out


def brute_rake(w, cats, targets, epsilon, maxit):
    joint = codes(pd.DataFrame({i: c for i, c in enumerate(cats)}), list(range(len(cats))))
    def table(ww):
        return np.bincount(joint, ww)

    old, psws, it = table(w), [], 0
    while it < maxit:
        psws = []
        for cat, target in zip(cats, targets):
            w = brute_poststrat(w, cat, target)
            psws.append(w.copy())
        new = table(w)
        if np.max(np.abs(old - new)) < epsilon:
            break
        old, it = new, it + 1
    return w, psws


def rake_adjust(x, cats, psws):
    x = x.copy()
    for _ in range(10):
        for cat, psw in zip(cats, psws):
            ave = pd.DataFrame(x / psw[:, None]).groupby(cat).transform("mean").to_numpy()
            x = x - psw[:, None] * ave
    return x


def greg_adjust(x, X, w0, g):
    whalf = np.sqrt(w0)
    q, _ = np.linalg.qr(X * whalf[:, None])
    yy = x / (g * whalf)[:, None]
    return (yy - q @ (q.T @ yy)) * (g * whalf)[:, None]


SEX = {"F": 5000.0, "M": 4800.0}
AGE = {"a": 3000.0, "b": 3300.0, "c": 3500.0}
DIST_SEX = {(d, s): 1500.0 + 100 * i + (50 if s == "F" else 0)
            for i, d in enumerate("xyz") for s in "FM"}


def test_poststratify_with_unequal_weights_follows_r():
    data = sample()
    w0 = data["w"].to_numpy()
    d = design(data).poststratify("sex", SEX)
    w1 = brute_poststrat(w0, data["sex"].to_numpy(), SEX)
    np.testing.assert_allclose(d.weights, w1, rtol=1e-12)
    x = poststrat_adjust(brute_influence(data, w1), data["sex"].to_numpy(), w1, w0)
    np.testing.assert_allclose(d.mean("y", by="dom")["se"], brute_se(data, x), rtol=1e-10)


def test_rake_with_domains_follows_r():
    data = sample()
    w0 = data["w"].to_numpy()
    cats = [data["sex"].to_numpy(), data["age"].to_numpy()]
    d = design(data).rake({"sex": SEX, "age": AGE}, epsilon=1e-9, max_iter=50)
    w1, psws = brute_rake(w0, cats, [SEX, AGE], 1e-9 * w0.sum(), 50)
    np.testing.assert_allclose(d.weights, w1, rtol=1e-10)
    x = rake_adjust(brute_influence(data, w1), cats, psws)
    np.testing.assert_allclose(d.mean("y", by="dom")["se"], brute_se(data, x), rtol=1e-9)


def test_joint_margins_with_tuple_keys_and_chained_poststratification():
    data = sample()
    w0 = data["w"].to_numpy()
    age_total = {k: v * sum(DIST_SEX.values()) / sum(AGE.values()) for k, v in AGE.items()}
    d = (design(data).poststratify("sex", {k: v * 0.98 for k, v in SEX.items()})
         .rake({("dist", "sex"): DIST_SEX, "age": age_total}, epsilon=1e-9, max_iter=100))
    w1 = brute_poststrat(w0, data["sex"].to_numpy(), {k: v * 0.98 for k, v in SEX.items()})
    joint = np.array([f"{a}|{b}" for a, b in zip(data["dist"], data["sex"])])
    cats = [joint, data["age"].to_numpy()]
    target_joint = {f"{a}|{b}": v for (a, b), v in DIST_SEX.items()}
    w2, psws = brute_rake(w1, cats, [target_joint, age_total], 1e-9 * w1.sum(), 100)
    np.testing.assert_allclose(d.weights, w2, rtol=1e-10)
    x = brute_influence(data, w2)
    x = poststrat_adjust(x, data["sex"].to_numpy(), w1, w0)
    x = rake_adjust(x, cats, psws)
    np.testing.assert_allclose(d.mean("y", by="dom")["se"], brute_se(data, x), rtol=1e-9)
    info = d.rake_info
    assert info.converged and info.margins == ("dist x sex", "age") and info.misfit < 1e-6


def test_calibration_on_numeric_and_categorical_totals_after_raking():
    data = sample()
    w0 = data["w"].to_numpy()
    raked = design(data).rake({"sex": SEX, "age": AGE}, epsilon=1e-9, max_iter=50)
    d = raked.calibrate({"dist": {"x": 3000.0, "y": 3300.0, "z": 3500.0}, "inc": 205000.0})
    cats = [data["sex"].to_numpy(), data["age"].to_numpy()]
    w1, psws = brute_rake(w0, cats, [SEX, AGE], 1e-9 * w0.sum(), 50)
    X = np.column_stack([(data["dist"] == c).to_numpy(float) for c in "xyz"] + [data["inc"]])
    assert np.allclose(X.T @ d.weights, [3000, 3300, 3500, 205000])
    g = d.weights / w1
    x = rake_adjust(brute_influence(data, d.weights), cats, psws)
    x = greg_adjust(x, X, w1, g)
    np.testing.assert_allclose(d.mean("y", by="dom")["se"], brute_se(data, x), rtol=1e-9)
    assert d.total("inc").estimate == pytest.approx(205000)
    # calibrated directly, the total of a calibration variable has (numerically) no variance
    direct = design(data).calibrate({"inc": 205000.0}, population_size=9800.0).total("inc")
    assert direct.estimate == pytest.approx(205000) and direct.se < 1e-8 * 205000


def test_trim_is_r_trimweights_and_keeps_the_raking_adjustment():
    data = sample()
    raked = design(data).rake({"sex": SEX}, epsilon=1e-9)
    upper = np.quantile(raked.weights, 0.9)
    trimmed = raked.trim(upper=upper)
    w = raked.weights.copy()
    out = w > upper
    expected = np.where(out, upper, w)
    expected[~out] += (w[out] - upper).sum() / (~out).sum()
    np.testing.assert_allclose(trimmed.weights, expected, rtol=1e-12)
    strict = raked.trim(upper=upper, strict=True)
    assert strict.weights.max() <= upper * (1 + 1e-12)
    assert strict.weights.sum() == pytest.approx(raked.weights.sum())
    x = rake_adjust(brute_influence(data, trimmed.weights), [data["sex"].to_numpy()],
                    [raked.weights])
    np.testing.assert_allclose(trimmed.mean("y", by="dom")["se"], brute_se(data, x), rtol=1e-9)


def test_epsilon_below_one_is_a_fraction_of_the_weight_sum():
    data = sample()
    total = data["w"].sum()
    d = design(data).rake({"sex": SEX, "age": AGE}, epsilon=0.001)
    assert d.rake_info.epsilon == pytest.approx(0.001 * total)
    assert design(data).rake({"sex": SEX, "age": AGE}, epsilon=1).rake_info.epsilon == 1


def test_raking_errors_are_clear():
    data = sample()
    d = design(data)
    with pytest.raises(ValueError, match="target category 'X' of 'sex' has no respondents"):
        d.rake({"sex": {**SEX, "X": 10.0}, "age": AGE})
    with pytest.raises(ValueError, match="do not sum to the same population"):
        d.rake({"sex": SEX, "age": {k: v * 2 for k, v in AGE.items()}})
    with pytest.raises(ValueError, match=r"categories \['M'\] of 'sex' occur in the sample"):
        d.rake({"sex": {"F": 9800.0}, "age": AGE})
    with pytest.raises(ValueError, match="no respondents"):
        d.poststratify(["dist", "sex"], {**DIST_SEX, ("w", "F"): 5.0})
    # a zero target for an absent category is fine
    ok = d.rake({"sex": {**SEX, "X": 0.0}, "age": AGE})
    assert ok.rake_info.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RakingConvergenceWarning):
            d.rake({("dist", "sex"): DIST_SEX,
                    "age": {k: v * sum(DIST_SEX.values()) / sum(AGE.values())
                            for k, v in AGE.items()}}, epsilon=1e-14, max_iter=1)


def test_missing_weighting_variable_is_an_error():
    data = sample()
    data.loc[3, "sex"] = None
    with pytest.raises(ValueError, match="'sex' has missing values"):
        design(data).rake({"sex": SEX, "age": AGE})


def test_calibration_that_cannot_be_met_is_an_error():
    data = sample().assign(one=1.0)
    with pytest.raises(ValueError, match="cannot all be met"):
        design(data).calibrate({"one": 100.0}, population_size=200.0)
