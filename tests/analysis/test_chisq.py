"""Rao-Scott adjusted chi-square against R's svychisq(statistic="F") (api_j_svychisq.json)."""
import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign
from analysis.chisq import svychisq
from tests.analysis.reference import RTOL, api, reference

REF = reference("svychisq")
POP = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}


def clus1_data():
    data = api("apiclus1")
    data["band"] = pd.cut(data["api00"], [0, 600, 700, 1000],
                          labels=["low", "mid", "high"]).astype(str)
    data["small_k3"] = np.where(data["acs.k3"].isna(), None,
                                np.where(data["acs.k3"] > 20, "yes", "no"))
    return data


def design(name):
    if name == "dstrat":
        return SurveyDesign(api("apistrat"), weights="pw", strata="stype", fpc="fpc")
    if name == "dclus2":
        return SurveyDesign(api("apiclus2"), psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    dclus1 = SurveyDesign(clus1_data(), weights="pw", psu="dnum", fpc="fpc")
    return dclus1.rake(POP) if name == "rclus1" else dclus1


CASES = {
    "dstrat_schwide_stype": ("dstrat", "sch.wide", "stype"),
    "dclus1_band_stype": ("dclus1", "band", "stype"),
    "dclus1_stype_awards": ("dclus1", "stype", "awards"),
    "dclus1_small_k3_schwide_na": ("dclus1", "small_k3", "sch.wide"),
    "dclus2_stype_schwide": ("dclus2", "stype", "sch.wide"),
    "rclus1_band_stype": ("rclus1", "band", "stype"),
}


@pytest.mark.parametrize("key", CASES)
def test_svychisq_matches_r(key):
    name, row, column = CASES[key]
    ref = REF[key]
    test = svychisq(design(name), row, column)
    np.testing.assert_allclose([test.statistic, test.ndf, test.ddf, test.p_value],
                               [ref["statistic"], ref["ndf"], ref["ddf"], ref["p_value"]],
                               rtol=RTOL)
    assert test.table.to_numpy().sum() == pytest.approx(1.0)


def test_svychisq_under_lonely_average():
    ref = REF["lonely_average_hi_stype"]
    data = api("lonely_apiclus1").assign(hi=lambda d: np.where(d["api00"] > 750, "hi", "lo"))
    design = SurveyDesign(data, weights="pw", psu="dnum", strata="lstrat", lonely_psu="average")
    test = svychisq(design, "hi", "stype")
    np.testing.assert_allclose([test.statistic, test.ndf, test.ddf, test.p_value],
                               [ref["statistic"], ref["ndf"], ref["ddf"], ref["p_value"]],
                               rtol=RTOL)


def test_svychisq_needs_two_categories_each():
    data = clus1_data().assign(one="x")
    with pytest.raises(ValueError, match="at least two observed categories"):
        svychisq(SurveyDesign(data, weights="pw", psu="dnum"), "one", "stype")
