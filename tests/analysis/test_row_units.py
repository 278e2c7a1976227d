"""Designs without PSUs (each row its own unit) against a dense reference written from the formula.

The engine never builds the n x D influence matrix of such designs (``row_stage_variance``); the
reference below does, straight from statistics.md: influence values per row and domain, the
weighting residualisation (post-stratification, R's ``rake()`` sweeps, GREG), then
sum_h scale_h sum_{i in h} (z_i - zbar_h)(z_i - zbar_h)'. It shares no code with the engine.
"""
import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign

RTOL = 1e-10
A_POP = {"a0": 900.0, "a1": 1300.0, "a2": 800.0}
B_POP = {"b0": 700.0, "b1": 750.0, "b2": 850.0, "b3": 700.0}


def sample(lonely: bool = False) -> pd.DataFrame:
    """400 rows, 5 strata (a sixth of one row if ``lonely``), 12 domains, margins a and b."""
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame({
        "h": rng.integers(0, 5, n), "dom": rng.integers(0, 12, n),
        "a": rng.choice(["a0", "a1", "a2"], n, p=[0.5, 0.3, 0.2]),
        "b": rng.choice(["b0", "b1", "b2", "b3"], n), "w": rng.uniform(2.0, 12.0, n),
        "x": rng.normal(0, 1, n)})
    frame["y"] = 60 + 5 * frame["h"] + 3 * (frame["a"] == "a1") + rng.normal(0, 8, n)
    frame.loc[rng.random(n) < 0.05, "y"] = np.nan
    if lonely:
        frame.loc[0, "h"] = 9
    frame["N"] = frame.groupby("h")["h"].transform("size") * 7
    return frame


# -- the reference ------------------------------------------------------------------------
def influence(frame, w, kind="mean", column="y"):
    """n x D influence values of the domain means (or totals); missing y: out of domain."""
    y = frame[column].to_numpy()
    z = np.zeros((len(frame), 12))
    for d in range(12):
        rows = (frame["dom"].to_numpy() == d) & ~np.isnan(y)
        if kind == "total":
            z[rows, d] = w[rows] * y[rows]
        else:
            ybar = np.sum(w[rows] * y[rows]) / np.sum(w[rows])
            z[rows, d] = w[rows] * (y[rows] - ybar) / np.sum(w[rows])
    return z


def poststratified(frame, w0, column, population):
    """Final weights, and z -> z - w * (sum_c z) / (sum_c w) within each post-stratum."""
    cats = frame[column].to_numpy()
    w = w0.copy()
    for c, target in population.items():
        w[cats == c] *= target / w0[cats == c].sum()

    def adjust(z):
        out = z.copy()
        for c in population:
            rows = cats == c
            out[rows] -= np.outer(w[rows], z[rows].sum(axis=0)) / w[rows].sum()
        return out
    return w, adjust


def raked(frame, w0, margins, epsilon=1e-9, max_iter=50):
    """R's rake(): IPF row by row; variance sweeps z -= psw_m * ave_m(z / psw_m), 10 times."""
    cats = [frame[c].to_numpy() for c in margins]
    joint = pd.MultiIndex.from_arrays(cats).codes
    cell = sum(code * 10 ** k for k, code in enumerate(joint))
    w, old = w0.copy(), None
    for _ in range(max_iter):
        psw = []
        for col, population in zip(cats, margins.values()):
            for c, target in population.items():
                w[col == c] *= target / w[col == c].sum()
            psw.append(w.copy())
        table = pd.Series(w).groupby(cell).sum().to_numpy()
        if old is not None and np.max(np.abs(table - old)) < epsilon:
            break
        old = table

    def adjust(z):
        z = z.copy()
        for _ in range(10):
            for col, population, p in zip(cats, margins.values(), psw):
                for c in population:
                    rows = col == c
                    z[rows] -= np.outer(p[rows], (z[rows] / p[rows, None]).mean(axis=0))
        return z
    return w, adjust


def greg(frame, w0, population_size, x_total):
    """Linear calibration on (1, x): z -> z - g w0 X (X' W0 X)^-1 X' (z / g)."""
    x = np.column_stack([np.ones(len(frame)), frame["x"].to_numpy()])
    lam = np.linalg.solve((x * w0[:, None]).T @ x, np.array([population_size, x_total]) - x.T @ w0)
    g = 1 + x @ lam

    def adjust(z):
        beta = np.linalg.solve((x * w0[:, None]).T @ x, x.T @ (z / g[:, None]))
        return z - (g * w0)[:, None] * (x @ beta)
    return w0 * g, adjust


def dense_variance(frame, z, fpc, lonely_psu, in_domain=None):
    """sum_h scale_h sum_{i in h} (z_i - zbar_h)(z_i - zbar_h)' with R's lonely-PSU options.

    ``in_domain`` (n x D, uncalibrated designs): "average" then counts, for each domain, only
    the strata holding one of its rows, as R's svyby does on the domain's subset; the
    covariance of domains d, e is scaled by sqrt(f_d f_e).
    """
    strata = frame["h"].to_numpy()
    labels = np.unique(strata)
    v = np.zeros((z.shape[1], z.shape[1]))
    lonely = 0
    for h in labels:
        zh = z[strata == h]
        n_h = len(zh)
        keep = 1 - n_h / frame.loc[strata == h, "N"].iloc[0] if fpc else 1.0
        if n_h == 1:
            lonely += 1
            if lonely_psu == "adjust":  # survey 4.1.1: a lonely unit uncentred
                v += keep * np.outer(zh[0], zh[0])
            continue
        centred = zh - zh.mean(axis=0)
        v += keep * n_h / (n_h - 1) * centred.T @ centred
    if lonely_psu == "average":
        if in_domain is None:
            v *= len(labels) / (len(labels) - lonely)
        else:
            lone = np.array([np.sum(strata == h) == 1 for h in labels])
            present = np.array([[in_domain[strata == h, d].any() for d in range(z.shape[1])]
                                for h in labels])
            factor = present.sum(axis=0) / (present & ~lone[:, None]).sum(axis=0)
            v *= np.sqrt(np.outer(factor, factor))
    return v


# -- the tests ----------------------------------------------------------------------------
def weighting(name, frame):
    """(engine design builder, reference weights and adjustment) for a weighting method."""
    w0 = frame["w"].to_numpy()
    if name == "none":
        return (lambda d: d), (w0, lambda z: z)
    if name == "poststratify":
        return (lambda d: d.poststratify("a", A_POP)), poststratified(frame, w0, "a", A_POP)
    if name == "rake":
        margins = {"a": A_POP, "b": B_POP}
        return ((lambda d: d.rake(margins, epsilon=1e-9, max_iter=50)),
                raked(frame, w0, margins))
    return (lambda d: d.calibrate({"x": 25.0}, population_size=3000.0)), greg(frame, w0, 3000.0, 25.0)


def check(frame, method, fpc, lonely_psu, kind="mean"):
    build, (w, adjust) = weighting(method, frame)
    design = build(SurveyDesign(frame, weights="w", strata="h", fpc="N" if fpc else None,
                                lonely_psu=lonely_psu))
    table = getattr(design, kind)("y", by="dom", covmat=True)
    in_domain = None
    if method == "none":
        dom, y = frame["dom"].to_numpy(), frame["y"].to_numpy()
        in_domain = (dom[:, None] == np.arange(12)) & ~np.isnan(y)[:, None]
    expected = dense_variance(frame, adjust(influence(frame, w, kind)), fpc, lonely_psu,
                              in_domain)
    np.testing.assert_allclose(design.weights, w, rtol=1e-9)
    np.testing.assert_allclose(table["se"].to_numpy(), np.sqrt(np.diag(expected)), rtol=RTOL)
    cov = table.attrs["covariance"].to_numpy()
    np.testing.assert_allclose(cov, expected, rtol=RTOL, atol=RTOL * np.abs(expected).max())
    # without covmat the diagonal comes from a separate code path
    plain = getattr(design, kind)("y", by="dom")
    np.testing.assert_allclose(plain["se"].to_numpy(), table["se"].to_numpy(), rtol=RTOL)


@pytest.mark.parametrize("method", ["none", "poststratify", "rake", "calibrate"])
@pytest.mark.parametrize("fpc", [False, True])
def test_domain_means_match_dense_reference(method, fpc):
    check(sample(), method, fpc, "fail")


@pytest.mark.parametrize("method", ["none", "rake"])
def test_domain_totals_match_dense_reference(method):
    check(sample(), method, True, "fail", kind="total")


@pytest.mark.parametrize("lonely_psu", ["adjust", "remove", "certainty", "average"])
@pytest.mark.parametrize("method", ["none", "poststratify", "rake"])
@pytest.mark.parametrize("fpc", [False, True])
def test_lonely_row_options_match_dense_reference(lonely_psu, method, fpc):
    check(sample(lonely=True), method, fpc, lonely_psu)


def test_lonely_row_fails_by_default_naming_the_stratum():
    design = SurveyDesign(sample(lonely=True), weights="w", strata="h")
    with pytest.raises(ValueError, match=r"Stratum \(9\) has only one PSU at stage 1"):
        design.mean("y", by="dom")


@pytest.mark.parametrize("psu", [None, "row"])
def test_domains_with_overall_match_dense_reference(psu):
    """Two layers (domains and the whole sample); one row per PSU is the same design."""
    frame = sample().assign(row=lambda f: np.arange(len(f))[::-1])
    margins = {"a": A_POP, "b": B_POP}
    design = SurveyDesign(frame, weights="w", strata="h", psu=psu).rake(margins, epsilon=1e-9,
                                                                        max_iter=50)
    w, adjust = raked(frame, frame["w"].to_numpy(), margins)
    y = frame["y"].to_numpy()
    ok = ~np.isnan(y)
    overall = np.where(ok, w * (y - np.sum(w[ok] * y[ok]) / np.sum(w[ok])), 0.0) / np.sum(w[ok])
    z = np.column_stack([influence(frame, w), overall])
    expected = dense_variance(frame, adjust(z), False, "fail")
    _, _, cov = design.domain_estimates("y", "dom")
    np.testing.assert_allclose(cov, expected, rtol=RTOL, atol=RTOL * np.abs(expected).max())
