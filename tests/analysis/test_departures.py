"""Where analysis/ used to depart from R survey (issue 11), against api_h_departures.json.

Written by tests/analysis/r/departures.R: domain proportions on the domain's degrees of
freedom, svyciprop(method="beta") counting rows with a missing outcome, JKn with a certainty
stratum, lonely.psu="average" inside domains and at stage 2.
"""
import numpy as np
import pytest

from analysis import SurveyDesign
from tests.analysis.reference import RTOL, api, reference
from tests.analysis.test_estimates_reference import dclus1, dstrat

REF = reference("departures")
METHODS = {"logit": "logit", "beta": "beta", "wald": "wald", "asin": "asin"}
POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}


def check_ciprop(table, ref):
    for dom, r in ref.items():
        row = table.loc[dom]
        np.testing.assert_allclose(row[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   [r["estimate"], r["se"], r["ci_low"], r["ci_high"]], rtol=RTOL)
        assert row["df"] == r["degf"]


@pytest.mark.parametrize("name,build", [("dstrat", dstrat), ("dclus1", dclus1)])
@pytest.mark.parametrize("method", METHODS)
def test_domain_proportions_use_the_domain_degrees_of_freedom(name, build, method):
    table = build().proportion("sch.wide", "Yes", by="stype", method=METHODS[method])
    check_ciprop(table, REF["domain_df"][name][method])


@pytest.mark.parametrize("method", ["beta", "logit"])
def test_domain_proportions_of_a_calibrated_design_count_every_row(method):
    raked = dclus1().rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    table = raked.proportion("stype", "E", by="sch.wide", method=method)
    ref = REF["domain_df"]["rclus1"][method]
    # svyciprop's logit estimate comes from a glm fit that stops at its own tolerance
    for dom, r in ref.items():
        np.testing.assert_allclose(table.loc[dom, "estimate"], r["estimate"], rtol=1e-9)
        np.testing.assert_allclose(table.loc[dom, ["se", "ci_low", "ci_high"]].to_numpy(float),
                                   [r["se"], r["ci_low"], r["ci_high"]], rtol=1e-8 if method == "beta" else 1e-6)
        assert table.loc[dom, "df"] == r["degf"]


def test_beta_interval_counts_rows_with_a_missing_outcome():
    ref = REF["beta_na"]
    data = api("apiclus1")
    data["small_k3"] = np.where(data["acs.k3"].isna(), np.nan, data["acs.k3"] > 20)
    assert data["small_k3"].isna().sum() == ref["missing"]
    design = SurveyDesign(data, weights="pw", psu="dnum", fpc="fpc")
    est = design.proportion("small_k3", 1.0, method="beta")
    r = ref["overall"]
    np.testing.assert_allclose([est.estimate, est.se, est.ci_low, est.ci_high],
                               [r["estimate"], r["se"], r["ci_low"], r["ci_high"]], rtol=RTOL)
    check_ciprop(design.proportion("small_k3", 1.0, by="sch.wide", method="beta"),
                 ref["by_sch_wide"])


def certainty_design() -> SurveyDesign:
    data = api("apistrat")
    data["fpc_cert"] = np.where(data["stype"] == "H", 50, data["fpc"])
    return SurveyDesign(data, strata="stype", fpc="fpc_cert")


@pytest.mark.parametrize("mse", [False, True])
def test_jkn_builds_no_replicates_for_a_certainty_stratum(mse):
    ref = REF["jkn_certainty"]
    rep = certainty_design().replicate("jkn", mse=mse)
    assert rep.replicate_weights.shape[0] == ref["n_replicates"]
    assert rep.df == ref["degf"]
    np.testing.assert_allclose(rep.scale, ref["scale"])
    np.testing.assert_allclose(np.unique(rep.rscales), np.sort(ref["rscales"]), rtol=RTOL)
    for key, stat in [("svymean_api00", "mean"), ("svytotal_enroll", "total")]:
        variable = "api00" if stat == "mean" else "enroll"
        r = ref[key if not (mse and stat == "mean") else "svymean_api00_mse"]
        est = getattr(rep, stat)(variable)
        np.testing.assert_allclose([est.estimate, est.se], [r["estimate"], r["se"]], rtol=RTOL)
        assert est.df == r["degf"]


def test_jkn_certainty_domains_and_proportions():
    ref = REF["jkn_certainty"]
    rep = certainty_design().replicate("jkn")
    table = rep.mean("api00", by="awards")
    for dom, r in ref["svyby_api00_awards"].items():
        np.testing.assert_allclose(table.loc[dom, ["estimate", "se"]].to_numpy(float),
                                   [r["estimate"], r["se"]], rtol=RTOL)
    prop = rep.proportion("sch.wide", "Yes", method="beta")
    r = ref["svyciprop_beta"]
    np.testing.assert_allclose([prop.estimate, prop.se, prop.ci_low, prop.ci_high],
                               [r["estimate"], r["se"], r["ci_low"], r["ci_high"]], rtol=RTOL)
    for mse, key in [(False, "svyciprop_logit"), (True, "svyciprop_logit_mse")]:
        # R's logit interval: replicate variance of the logit (svyglm fit to glm tolerance)
        prop = certainty_design().replicate("jkn", mse=mse).proportion("sch.wide", "Yes")
        r = ref[key]
        np.testing.assert_allclose([prop.estimate, prop.se, prop.ci_low, prop.ci_high],
                                   [r["estimate"], r["se"], r["ci_low"], r["ci_high"]], rtol=RTOL)
    lin = certainty_design().mean("api00")
    np.testing.assert_allclose(lin.se, ref["linearisation_svymean_api00"]["se"], rtol=RTOL)


def test_jkn_refuses_a_design_sampled_completely():
    data = api("apistrat")
    data["all"] = data.groupby("stype")["stype"].transform("size")
    with pytest.raises(ValueError, match="sampled completely"):
        SurveyDesign(data, strata="stype", fpc="all").replicate("jkn")


def lonely_average() -> SurveyDesign:
    data = api("lonely_apiclus1")
    data["hi"] = np.where(data["api00"] > 750, "hi", "lo")
    return SurveyDesign(data, weights="pw", psu="dnum", strata="lstrat", lonely_psu="average")


def test_average_inside_domains_counts_only_the_strata_present():
    ref = REF["lonely_average"]
    design = lonely_average()
    for stat, variable, key in [("mean", "api00", "svyby_api00_hi"),
                                ("total", "enroll", "svyby_enroll_hi")]:
        table = getattr(design, stat)(variable, by="hi")
        for dom, r in ref[key].items():
            np.testing.assert_allclose(table.loc[dom, ["estimate", "se"]].to_numpy(float),
                                       [r["estimate"], r["se"]], rtol=RTOL)
        # the covariance matrix carries the same per-domain factor on its diagonal
        cov = getattr(design, stat)(variable, by="hi", covmat=True).attrs["covariance"]
        np.testing.assert_allclose(np.sqrt(np.diag(cov)), table["se"], rtol=1e-12)
    est = design.mean("api00")
    np.testing.assert_allclose(est.se, ref["svymean_api00"]["se"], rtol=RTOL)
    table = design.proportion("stype", "E", by="hi")
    for dom, r in ref["svyciprop_E_by_hi"].items():
        np.testing.assert_allclose(table.loc[dom, "se"], r["se"], rtol=1e-9)
        np.testing.assert_allclose(table.loc[dom, ["ci_low", "ci_high"]].to_numpy(float),
                                   [r["ci_low"], r["ci_high"]], rtol=1e-6)
        assert table.loc[dom, "df"] == r["degf"]


def test_average_refuses_a_lonely_unit_at_stage_two():
    assert REF["lonely_average"]["stage2"]["svymean_api00_se"] is None  # R: NA
    data = api("apiclus2").assign(fpc2x2=lambda d: d["fpc2"] * 2)
    design = SurveyDesign(data, weights="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2x2"],
                          lonely_psu="average")
    with pytest.raises(ValueError, match="only one unit at stage 2.*undefined below the first"):
        design.mean("api00")
    remove = SurveyDesign(data, weights="pw", psu=["dnum", "snum"], fpc=["fpc1", "fpc2x2"],
                          lonely_psu="remove")
    assert np.isfinite(remove.mean("api00").se)
