"""Post-stratification and raking of dclus1 against R survey 4.1.1 (api_d_rake, api_e_poststrat)."""
import numpy as np
import pandas as pd
import pytest

from analysis import RakingConvergenceWarning, SurveyDesign
from tests.analysis.reference import RTOL, api, reference
from tests.analysis.test_estimates_reference import check_stat, dclus1, printed

RAKE = reference("rake")["rake_rclus1"]
POP_TYPES = RAKE["pop_types"]
POP_SCHWIDE = RAKE["pop_schwide"]
WEIGHTS = api("api_rclus1_weights")


def raked(**control):
    return dclus1().rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, **control)


def check_design(design, ref):
    check_stat(design.mean("api00"), ref["svymean_api00"], design)
    total = design.total("enroll", ci="normal")
    check_stat(total, ref["svytotal_enroll"], design)
    np.testing.assert_allclose([total.ci_low, total.ci_high],
                               [ref["svytotal_enroll"]["ci95_wald_normal"]["lower"],
                                ref["svytotal_enroll"]["ci95_wald_normal"]["upper"]], rtol=RTOL)
    normal = design.mean("api00", ci="normal")
    np.testing.assert_allclose([normal.ci_low, normal.ci_high],
                               [ref["svymean_api00"]["ci95_wald_normal"]["lower"],
                                ref["svymean_api00"]["ci95_wald_normal"]["upper"]], rtol=RTOL)
    table = design.mean("api00", by="stype")
    for dom, r in ref["svyby_api00_stype"].items():
        np.testing.assert_allclose(table.loc[dom, ["estimate", "se", "deff"]].to_numpy(float),
                                   [r["estimate"], r["se"], r["deff"]], rtol=RTOL)


@pytest.mark.parametrize("control,key,column", [
    ({}, "default", "w_rake_default"),
    ({"epsilon": 1e-13, "max_iter": 1000}, "tight", "w_rake_tight"),
])
def test_rake_matches_r(control, key, column):
    design = raked(**control)
    ref = RAKE[key]
    check_design(design, ref)
    np.testing.assert_allclose(design.weights, WEIGHTS[column], rtol=RTOL)
    np.testing.assert_allclose(design.weights.sum(), ref["sum_weights"], rtol=RTOL)
    data = design.data.assign(w=design.weights)
    for var, margin in (("stype", "weighted_margin_stype"), ("sch.wide", "weighted_margin_schwide")):
        got = data.groupby(var)["w"].sum()
        for cat, value in ref[margin].items():
            np.testing.assert_allclose(got[cat], value, rtol=RTOL)
    info = design.rake_info
    assert info.converged and info.epsilon > 0 and info.margins == ("stype", "sch.wide")
    assert info.max_change < info.epsilon


def test_rake_diagnostics_default_control():
    info = raked().rake_info
    assert info.iterations == 4 and info.epsilon == 1.0
    assert 0 < info.misfit < 1  # stype margins are off by ~0.04 after the last sweep


def test_fixed_raked_weights_ignore_the_calibration():
    ref = RAKE["fixed_raked_weights_no_calibration_adjustment"]
    data = api("apiclus1").assign(w_rake=WEIGHTS["w_rake_default"].to_numpy())
    design = SurveyDesign(data, weights="w_rake", psu="dnum", fpc="fpc")
    check_stat(design.mean("api00"), ref["svymean_api00"], design)
    table = design.mean("api00", by="stype")
    for dom, r in ref["svyby_api00_stype"].items():
        np.testing.assert_allclose(table.loc[dom, ["estimate", "se", "deff"]].to_numpy(float),
                                   [r["estimate"], r["se"], r["deff"]], rtol=RTOL)


def test_printed_rake_values_in_statistics_md():
    design = raked(epsilon=1e-10, max_iter=30)
    printed(design.mean("api00").estimate, "641.23")
    printed(design.mean("api00").se, "23.704")
    printed(design.total("enroll").estimate, "3647280")
    printed(design.total("enroll").se, "400603")


def test_poststratify_matches_r():
    ref = reference("poststrat")["poststrat"]
    design = dclus1().poststratify("stype", POP_TYPES)
    check_design(design, ref)
    np.testing.assert_allclose(design.weights, WEIGHTS["w_poststrat_stype"], rtol=RTOL)
    printed(design.mean("api00").estimate, "642.31")
    # statistics.md prints SE 23.921, but survey 4.1.1 itself gives 23.92049 (the JSON value,
    # matched above at 1e-8): the printed figure is one unit off in its last digit.
    assert design.mean("api00").se == pytest.approx(23.921, abs=0.001)
    printed(design.total("enroll").estimate, "3680893")
    printed(design.total("enroll").se, "406293")


def test_linear_calibration_on_one_factor_is_poststratification():
    ref = reference("poststrat")["poststrat"]
    design = dclus1().calibrate({"stype": POP_TYPES})
    check_design(design, ref)


def test_rake_warns_when_not_converged():
    with pytest.warns(RakingConvergenceWarning, match="did not converge after 2"):
        design = raked(epsilon=1e-13, max_iter=2)
    assert not design.rake_info.converged and design.rake_info.iterations == 2
