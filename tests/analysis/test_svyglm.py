"""svyglm (linear and logistic) against R survey 4.1.1 (api_i_svyglm.json, from svyglm.R)."""
import numpy as np
import pytest

from analysis import SurveyDesign
from analysis.svyglm import svyglm
from tests.analysis.reference import RTOL, api, reference

REF = reference("svyglm")
POP = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}


def with_yes(data):
    return data.assign(yes=(data["sch.wide"] == "Yes").astype(float))


def design(name: str) -> SurveyDesign:
    if name == "dstrat":
        return SurveyDesign(with_yes(api("apistrat")), weights="pw", strata="stype", fpc="fpc")
    if name == "dstrat_clus":
        return SurveyDesign(with_yes(api("apistrat")), weights="pw", strata="stype", psu="dnum")
    if name == "dclus2":
        return SurveyDesign(with_yes(api("apiclus2")), psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    dclus1 = SurveyDesign(with_yes(api("apiclus1")), weights="pw", psu="dnum", fpc="fpc")
    return dclus1.rake(POP) if name == "rclus1" else dclus1


CASES = {
    "linear_dstrat": ("dstrat", "api00", ["ell", "meals", "mobility"], "gaussian"),
    "linear_dstrat_clus": ("dstrat_clus", "api00", ["ell", "meals", "mobility"], "gaussian"),
    "linear_dclus2": ("dclus2", "api00", ["ell", "meals", "mobility"], "gaussian"),
    "linear_dclus1_na": ("dclus1", "api00", ["ell", "acs.k3"], "gaussian"),
    "linear_rclus1": ("rclus1", "api00", ["ell", "meals"], "gaussian"),
    "logistic_dstrat": ("dstrat", "yes", ["ell", "meals"], "quasibinomial"),
    "logistic_dclus2": ("dclus2", "yes", ["ell", "meals"], "quasibinomial"),
    "logistic_rclus1": ("rclus1", "yes", ["ell", "meals"], "quasibinomial"),
}


@pytest.mark.parametrize("key", CASES)
def test_svyglm_matches_r(key):
    name, outcome, predictors, family = CASES[key]
    ref = REF[key]
    fit = svyglm(design(name), outcome, predictors, family=family)
    assert list(fit.table.index[1:]) == predictors and fit.df == ref["df_residual"]
    assert fit.n == ref["n"]
    for column, r in [("coefficient", "coefficient"), ("se", "se"), ("t", "t"), ("p_value", "p"),
                      ("deff", "deff")]:
        np.testing.assert_allclose(fit.table[column], ref[r], rtol=RTOL, err_msg=column)
    np.testing.assert_allclose(fit.covariance.to_numpy(), np.array(ref["vcov"]), rtol=RTOL)


def test_svyglm_average_counts_the_strata_of_the_fitted_rows():
    ref = REF["linear_lonely_average"]
    design = SurveyDesign(api("lonely_apiclus1"), weights="pw", psu="dnum", strata="lstrat",
                          lonely_psu="average")
    fit = svyglm(design, "api00", ["enroll"])
    np.testing.assert_allclose(fit.table["se"], ref["se"], rtol=RTOL)
    np.testing.assert_allclose(fit.table["p_value"], ref["p"], rtol=RTOL)
    assert fit.df == ref["df_residual"]


def test_svyglm_refuses_bad_input():
    d = design("dstrat")
    with pytest.raises(ValueError, match="family: expected one of gaussian, quasibinomial"):
        svyglm(d, "api00", ["ell"], family="poisson")
    with pytest.raises(ValueError, match="outcome: .*between 0 and 1"):
        svyglm(d, "api00", ["ell"], family="quasibinomial")
    with pytest.raises(ValueError, match="predictors: column 'nope'"):
        svyglm(d, "api00", ["nope"])
    with pytest.raises(ValueError, match="predictors: 'stype' must be numeric"):
        svyglm(d, "api00", ["stype"])
    with pytest.raises(ValueError, match="collinear"):
        svyglm(d.data.assign(ell2=d.data["ell"] * 2).pipe(
            lambda x: SurveyDesign(x, weights="pw", strata="stype")), "api00", ["ell", "ell2"])
