"""Means, totals, domains, proportions and variances against R survey 4.1.1 (api data).

Every full-precision value in api_a_dstrat.json, api_b_dclus1.json and api_c_dclus2.json is
checked at rtol 1e-8; the R call that produced each block is stored in the JSON ("design").
"""
import numpy as np
import pytest

from analysis import SurveyDesign
from tests.analysis.reference import RTOL, api, reference


def dstrat(fpc=True):
    return SurveyDesign(api("apistrat"), weights="pw", strata="stype", fpc="fpc" if fpc else None)


def dclus1(fpc=True):
    return SurveyDesign(api("apiclus1"), weights="pw", psu="dnum", fpc="fpc" if fpc else None)


def dclus2(fpc=True):
    if fpc:
        return SurveyDesign(api("apiclus2"), psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    return SurveyDesign(api("apiclus2"), weights="pw", psu=["dnum", "snum"])


DESIGNS = {
    ("dstrat", True): lambda: dstrat(True), ("dstrat", False): lambda: dstrat(False),
    ("dclus1", True): lambda: dclus1(True), ("dclus1", False): lambda: dclus1(False),
    ("dclus2", True): lambda: dclus2(True), ("dclus2", False): lambda: dclus2(False),
}
FILES = {"dstrat": "dstrat", "dclus1": "dclus1", "dclus2": "dclus2"}


def block(name, key, fpc):
    return reference(name)[name][key if fpc else f"{key}_nofpc"]


def check_stat(est, ref, design):
    """Compare an Estimate with an R svymean/svytotal block (all fields present in it)."""
    np.testing.assert_allclose(est.estimate, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(est.se, ref["se"], rtol=RTOL)
    np.testing.assert_allclose(est.variance, ref["variance"], rtol=RTOL)
    np.testing.assert_allclose(est.deff, ref["deff"], rtol=RTOL)
    if "deff_replace" in ref:  # R's deff="replace": V / (svyvar / n), i.e. deff * (1 - n/N)
        frac = 1 - est.n / design.weights.sum()
        np.testing.assert_allclose(est.deff * frac, ref["deff_replace"], rtol=RTOL)
    if "degf" in ref:
        assert est.df == ref["degf"] == design.df
    if "ci95_wald_t_degf" in ref:
        assert est.interval == "t"
        np.testing.assert_allclose([est.ci_low, est.ci_high],
                                   [ref["ci95_wald_t_degf"]["lower"],
                                    ref["ci95_wald_t_degf"]["upper"]], rtol=RTOL)


@pytest.mark.parametrize("name,fpc", list(DESIGNS))
def test_mean_api00(name, fpc):
    design = DESIGNS[(name, fpc)]()
    ref = block(name, "svymean_api00", fpc)
    est = design.mean("api00")
    check_stat(est, ref, design)
    normal = design.mean("api00", ci="normal")
    assert normal.interval == "normal" and normal.method == "linearization"
    np.testing.assert_allclose([normal.ci_low, normal.ci_high],
                               [ref["ci95_wald_normal"]["lower"], ref["ci95_wald_normal"]["upper"]],
                               rtol=RTOL)


@pytest.mark.parametrize("name,fpc", [k for k in DESIGNS if k[0] != "dclus2"])
def test_total_enroll(name, fpc):
    design = DESIGNS[(name, fpc)]()
    ref = block(name, "svytotal_enroll", fpc)
    est = design.total("enroll", ci="normal")
    check_stat(est, ref, design)
    np.testing.assert_allclose([est.ci_low, est.ci_high],
                               [ref["ci95_wald_normal"]["lower"], ref["ci95_wald_normal"]["upper"]],
                               rtol=RTOL)


def test_total_with_missing_values_drops_them_but_keeps_the_design():
    """svytotal(~enroll, dclus2, na.rm=TRUE): six schools lack enroll."""
    design = dclus2()
    ref = reference("dclus2")["dclus2"]["svytotal_enroll_narm"]
    est = design.total("enroll", ci="normal")
    check_stat(est, ref, design)
    assert est.n == 120 and design.df == 39
    np.testing.assert_allclose([est.ci_low, est.ci_high],
                               [ref["ci95_wald_normal"]["lower"], ref["ci95_wald_normal"]["upper"]],
                               rtol=RTOL)


@pytest.mark.parametrize("name,fpc", [k for k in DESIGNS if k != ("dclus2", False)])
def test_domain_means_by_stype(name, fpc):
    design = DESIGNS[(name, fpc)]()
    ref = block(name, "svyby_api00_stype", fpc)
    table = design.mean("api00", by="stype")
    assert list(table.columns) == ["estimate", "se", "ci_low", "ci_high", "df", "deff", "n", "n_eff"]
    np.testing.assert_allclose(table["n_eff"], table["n"] / table["deff"], rtol=1e-15)
    assert list(table.index) == sorted(ref)
    for dom, r in ref.items():
        np.testing.assert_allclose(table.loc[dom, ["estimate", "se", "deff"]].to_numpy(float),
                                   [r["estimate"], r["se"], r["deff"]], rtol=RTOL)
    assert (table["df"] == design.df).all()
    assert table["n"].sum() == len(design)


@pytest.mark.parametrize("name,fpc", [("dstrat", True), ("dstrat", False), ("dclus1", True)])
@pytest.mark.parametrize("method,r_name", [("logit", "logit"), ("logit", "xlogit"),
                                           ("beta", "beta"), ("wald", "mean"), ("asin", "asin")])
def test_proportion_intervals(name, fpc, method, r_name):
    design = DESIGNS[(name, fpc)]()
    ref = block(name, "svyciprop_schwide_yes", fpc)[r_name]
    est = design.proportion("sch.wide", "Yes", method=method)
    assert est.interval == method and est.statistic == "proportion"
    np.testing.assert_allclose([est.estimate, est.se, est.ci_low, est.ci_high, est.df],
                               [ref["estimate"], ref["se"], ref["lower"], ref["upper"], ref["df"]],
                               rtol=RTOL)


def test_wilson_interval_uses_effective_sample_size():
    est = dclus1().proportion("sch.wide", "Yes", method="wilson")
    assert est.ci_low < est.estimate < est.ci_high
    # the Wilson interval is asymmetric towards 1/2 around p = 0.87
    assert est.estimate - est.ci_low > est.ci_high - est.estimate
    wald = dclus1().proportion("sch.wide", "Yes", method="wald")
    assert est.ci_high - est.ci_low == pytest.approx(wald.ci_high - wald.ci_low, rel=0.05)


def test_svyvar():
    ref = reference("dstrat")["dstrat"]["svyvar_api00"]
    est = dstrat().var("api00")
    np.testing.assert_allclose([est.estimate, est.se, est.variance],
                               [ref["estimate"], ref["se"], ref["variance"]], rtol=RTOL)


def test_weights_implied_by_fpc_equal_pw():
    np.testing.assert_allclose(dclus2().weights, api("apiclus2")["pw"], rtol=1e-12)


def printed(value, text):
    """``value`` rounds to ``text`` at the digits printed in statistics.md."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert round(value, decimals) == pytest.approx(float(text), abs=10 ** -(decimals + 6))


def test_printed_values_in_statistics_md():
    printed(dstrat().mean("api00").estimate, "662.29")
    printed(dstrat().mean("api00").se, "9.4089")
    printed(dstrat().total("enroll").estimate, "3687178")
    printed(dstrat().total("enroll").se, "114642")
    printed(dclus1().mean("api00").estimate, "644.17")
    printed(dclus1().mean("api00").se, "23.542")
    printed(dclus1().total("enroll").estimate, "3404940")
    printed(dclus1().total("enroll").se, "932235")
    printed(dclus2().mean("api00").estimate, "670.81")
    printed(dclus2().mean("api00").se, "30.099")
    printed(dclus2(fpc=False).mean("api00").se, "30.712")


def test_svyby_covmat_example():
    """svyby(~api99, ~stype, dclus1, svymean, covmat=TRUE) and the E - M contrast."""
    table = dclus1().mean("api99", by="stype", covmat=True)
    for dom, text in zip("EHM", ["607.7917", "595.7143", "608.6000"]):
        printed(table.loc[dom, "estimate"], text)
    cov = table.attrs["covariance"]
    printed(cov.loc["E", "M"], "684.6562")
    var_diff = cov.loc["E", "E"] + cov.loc["M", "M"] - 2 * cov.loc["E", "M"]
    printed(np.sqrt(var_diff), "14.54236")
    printed(np.sqrt(table.loc["E", "se"] ** 2 + table.loc["M", "se"] ** 2), "39.75918")
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), table["se"], rtol=1e-12)
