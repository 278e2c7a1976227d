"""Ratio, quantile, partial post-stratification, calibration, BRR/Fay/bootstrap replicates,
replicate contrasts, likelihood intervals and subsets against R survey 4.1.1 (api data).

Reference values: tests/analysis/data/new_estimators.json, written by
tests/analysis/r/new_estimators.R; each block stores the R call that produced it ("call").
"""
import json
from pathlib import Path

import numpy as np
import pytest

from analysis import SurveyDesign, contrast
from analysis.ciprop_likelihood import fmm_spline
from analysis.hadamard import PRECOOKED, SMALL_PRIMES, hadamard
from analysis.replicate_build import from_replicate_weights
from tests.analysis.reference import api

RTOL = 1e-8
REF = json.loads((Path(__file__).parent / "data" / "new_estimators.json").read_text())


def dstrat():
    return SurveyDesign(api("apistrat"), weights="pw", strata="stype", fpc="fpc")


def dclus1():
    return SurveyDesign(api("apiclus1"), weights="pw", psu="dnum", fpc="fpc")


def dclus2():
    return SurveyDesign(api("apiclus2"), psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])


DESIGNS = {"dstrat": dstrat, "dclus1": dclus1, "dclus2": dclus2}
STYPES = ["E", "H", "M"]


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol)


# -- svyratio ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DESIGNS)
def test_ratio(name):
    ref = REF["ratio"][name]
    est = DESIGNS[name]().ratio("api.stu", "enroll")
    close([est.estimate, est.se, est.deff], [ref["ratio"], ref["se"], ref["deff"]])
    assert est.statistic == "ratio" and est.df == ref["degf"]


def test_ratio_by_domain_with_covariance():
    ref = REF["ratio"]["dclus1_by_stype"]
    table = dclus1().ratio("api.stu", "enroll", by="stype", covmat=True)
    close(table["estimate"], [ref["table"][s]["estimate"] for s in STYPES])
    close(table["se"], [ref["table"][s]["se"] for s in STYPES])
    close(table.attrs["covariance"].to_numpy(), ref["vcov"])


def test_ratio_after_poststratification():
    ref = REF["ratio"]["dclus1_poststrat"]
    design = dclus1().poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
    est = design.ratio("api.stu", "enroll")
    close([est.estimate, est.se], [ref["ratio"], ref["se"]])


# -- svyquantile ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", DESIGNS)
def test_quantiles(name):
    ref = REF["quantile"][name]
    design = DESIGNS[name]()
    for i, p in enumerate(ref["probs"]):
        est = design.quantile("api00", p)
        close([est.estimate, est.ci_low, est.ci_high, est.se],
              [ref["quantile"][i], ref["ci_low"][i], ref["ci_high"][i], ref["se"][i]])
        assert est.interval == "woodruff" and est.statistic == "quantile"


@pytest.mark.parametrize("name", ["dstrat", "dclus1"])
def test_median_by_domain(name):
    ref = REF["quantile"][f"{name}_median_by_stype"]
    table = DESIGNS[name]().quantile("api00", 0.5, by="stype")
    assert list(table.index) == ref["levels"]
    close(table["estimate"], ref["quantile"])
    close(table["se"], ref["se"])
    close(table["ci_low"], ref["ci_low"])
    close(table["ci_high"], ref["ci_high"])
    assert list(table["df"]) == ref["degf"]


# -- postStratify(partial=TRUE) ------------------------------------------------------------
def test_poststratify_partial_ignores_absent_categories():
    ref = REF["poststratify_partial"]
    population = {"E": 4421, "H": 755, "M": 1018, "X": 300}
    with pytest.raises(ValueError, match="'X'.*no respondents"):
        dclus1().poststratify("stype", population)
    design = dclus1().poststratify("stype", population, partial=True)
    mean, total = design.mean("api00"), design.total("enroll")
    close([mean.estimate, mean.se], [ref["mean_api00"]["estimate"], ref["mean_api00"]["se"]])
    close([total.estimate, total.se],
          [ref["total_enroll"]["estimate"], ref["total_enroll"]["se"]])
    close(design.weights.sum(), ref["weight_sum"])


# -- calibrate ------------------------------------------------------------------------------
POP = REF["calibrate"]["population"]
TOTALS = {"stype": {"E": POP["(Intercept)"] - POP["stypeH"] - POP["stypeM"],
                    "H": POP["stypeH"], "M": POP["stypeM"]},
          "api99": POP["api99"]}
CAL_CASES = [k for k in REF["calibrate"] if k != "population"]


def _bound(value, default):
    return value if isinstance(value, (int, float)) else default


@pytest.mark.parametrize("case", CAL_CASES)
def test_calibrate(case):
    ref = REF["calibrate"][case]
    design = DESIGNS[case.split("_")[0]]()
    bounds = (_bound(ref["lower"], -np.inf), _bound(ref["upper"], np.inf))
    cal = design.calibrate(TOTALS, calfun=ref["calfun"], bounds=bounds, epsilon=1e-12,
                           max_iter=100)
    close(cal.weights, ref["weights"])
    mean, total = cal.mean("api00"), cal.total("enroll")
    close([mean.estimate, mean.se], [ref["mean_api00"]["estimate"], ref["mean_api00"]["se"]])
    close([total.estimate, total.se],
          [ref["total_enroll"]["estimate"], ref["total_enroll"]["se"]])
    g = cal.weights / design.weights
    close([g.min(), g.max()], ref["g_range"])
    assert np.all(g >= bounds[0] - 1e-12) and np.all(g <= bounds[1] + 1e-12)


def test_calibrate_reports_and_refuses():
    design = dclus1()
    info = design.calibrate(TOTALS, calfun="raking").weighting_info[-1]
    assert info.calfun == "raking" and info.misfit < 1e-7 and info.iterations >= 2
    with pytest.raises(ValueError, match="finite bounds"):
        design.calibrate(TOTALS, calfun="logit")
    with pytest.raises(ValueError, match="calfun: expected one of"):
        design.calibrate(TOTALS, calfun="probit", bounds=(0.5, 2))
    with pytest.raises(ValueError, match="widen the bounds"):
        design.calibrate(TOTALS, bounds=(0.9, 1.1))


# -- Hadamard, BRR, Fay, bootstrap; covariances and contrasts -----------------------------
def test_precooked_hadamard_matrices_are_r_s():
    assert [list(m) for m in PRECOOKED] == REF["hadamard"]["precooked"]
    assert list(SMALL_PRIMES) == REF["hadamard"]["paley_small_primes"]


@pytest.mark.parametrize("key", [k for k in REF["hadamard"] if k.startswith("n")])
def test_hadamard_as_r_builds_it(key):
    expected = np.array([[int(c) for c in row] for row in REF["hadamard"][key]["rows"]])
    h = hadamard(int(key[1:]))
    assert h.shape == expected.shape and np.array_equal(h, expected)
    signed = 2 * h.astype(int) - 1
    assert np.array_equal(signed.T @ signed, h.shape[0] * np.eye(h.shape[0]))


def check_replicates(rep, ref):
    assert rep.df == ref["degf"] and rep.replicate_weights.shape[0] == ref["n_replicates"]
    close(rep.scale, ref["scale"])
    for est, key in ((rep.mean("api00"), "mean_api00"), (rep.total("enroll"), "total_enroll")):
        close([est.estimate, est.se], [ref[key]["estimate"], ref[key]["se"]])
    table = rep.mean("api00", by="stype", covmat=True)
    close(table["se"], [ref["by_stype"][s]["se"] for s in STYPES])
    cov = np.array(ref["by_stype_vcov"])
    np.testing.assert_allclose(table.attrs["covariance"].to_numpy(), cov, rtol=RTOL,
                               atol=RTOL * np.abs(cov).max())
    change = contrast(table, {"E": 1, "M": -1})
    close([change.estimate, change.se],
          [ref["contrast_E_minus_M"]["estimate"], ref["contrast_E_minus_M"]["se"]])


@pytest.mark.parametrize("method,rho,key", [("brr", 0.0, "dstrat_brr"),
                                            ("fay", 0.3, "dstrat_fay")])
def test_brr_and_fay(method, rho, key):
    ref = REF["replicate"][key]
    design = dstrat()
    rep = design.replicate(method, fay_rho=rho)
    multipliers = rep.replicate_weights / design.weights
    close(multipliers[:, :6].T, ref["multipliers_first_psus"])
    check_replicates(rep, ref)


def test_jk1_covariance_and_contrast():
    check_replicates(dclus1().replicate("jk1"), REF["replicate"]["dclus1_jk1"])


def test_variance_given_r_bootstrap_weights():
    ref = REF["replicate"]["dclus1_bootstrap"]
    design = dclus1()
    psu = np.array(ref["row_psu"]) - 1
    repweights = (np.array(ref["psu_multipliers"])[psu] * design.weights[:, None]).T
    check_replicates(from_replicate_weights(design, repweights, ref["scale"]), ref)


def test_brr_refuses_odd_strata_and_unstratified():
    data = api("apistrat").iloc[:-1]
    with pytest.raises(ValueError, match="odd number of PSUs"):
        SurveyDesign(data, weights="pw", strata="stype").replicate("brr")
    with pytest.raises(ValueError, match="stratified"):
        dclus1().replicate("fay", fay_rho=0.5)
    with pytest.raises(ValueError, match="fay_rho"):
        dstrat().replicate("fay")


# -- svyciprop(method="likelihood") --------------------------------------------------------
def test_fmm_spline_is_r_s():
    ref = REF["ciprop_likelihood"]["spline_fmm"]
    grid, values = fmm_spline(np.array(ref["x"]), np.array(ref["y"]))
    close(grid, ref["out_x"])
    close(values, ref["out_y"])


@pytest.mark.parametrize("name", DESIGNS)
def test_likelihood_interval(name):
    ref = REF["ciprop_likelihood"][name]
    est = DESIGNS[name]().proportion("sch.wide", "Yes", method="likelihood")
    close([est.estimate, est.se, est.ci_low, est.ci_high],
          [ref["estimate"], ref["se"], ref["ci_low"], ref["ci_high"]])
    assert est.interval == "likelihood"


def test_likelihood_interval_at_90_percent():
    ref = REF["ciprop_likelihood"]["dclus1_awards_90"]
    est = dclus1().proportion("awards", "Yes", method="likelihood", level=0.9)
    close([est.estimate, est.ci_low, est.ci_high],
          [ref["estimate"], ref["ci_low"], ref["ci_high"]])


def test_likelihood_interval_by_domain():
    ref = REF["ciprop_likelihood"]["dclus1_by_stype"]
    table = dclus1().proportion("sch.wide", "Yes", by="stype", method="likelihood")
    close(table["estimate"], ref["estimate"])
    close(table["ci_low"], ref["ci_low"])
    close(table["ci_high"], ref["ci_high"])


# -- subset() ------------------------------------------------------------------------------
def _subset(key):
    if key == "dclus1_E":
        design = dclus1()
        return design.subset(design.data["stype"] == "E")
    if key == "dstrat_api99_gt_650":
        design = dstrat()
        return design.subset(design.data["api99"] > 650)
    if key == "dclus1_poststrat_schwide":
        design = dclus1().poststratify("stype", {"E": 4421, "H": 755, "M": 1018})
        return design.subset(design.data["sch.wide"] == "Yes")
    design = dclus2()
    return design.subset(design.data["enroll"] > 300)


@pytest.mark.parametrize("key", REF["subset"])
def test_subset_keeps_the_design(key):
    ref = REF["subset"][key]
    design = _subset(key)
    assert design.df == ref["degf"]
    mean = design.mean("api00")
    close([mean.estimate, mean.se], [ref["mean_api00"]["estimate"], ref["mean_api00"]["se"]])
    if "total_enroll" in ref:
        total = design.total("enroll")
        close([total.estimate, total.se],
              [ref["total_enroll"]["estimate"], ref["total_enroll"]["se"]])


def test_subset_refuses_bad_masks():
    design = dclus1()
    with pytest.raises(ValueError, match="boolean mask"):
        design.subset(np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="no row"):
        design.subset(design.data["api00"] > 10_000)
