"""Every lonely-PSU option against R survey 4.1.1 (api_g_lonely_psu.json)."""
import numpy as np
import pytest

from analysis import SurveyDesign
from tests.analysis.reference import RTOL, api, reference

REF = reference("lonely_psu")["lonely_psu"]


def lonely(option):
    return SurveyDesign(api("lonely_apiclus1"), weights="pw", psu="dnum", strata="lstrat",
                        lonely_psu=option)


@pytest.mark.parametrize("option", ["remove", "certainty", "adjust", "average"])
def test_lonely_psu_option_matches_r(option):
    ref = REF["options"][option]
    design = lonely(option)
    assert design.df == ref["degf"]
    for est, r in ((design.mean("api00"), ref["svymean_api00"]),
                   (design.total("enroll"), ref["svytotal_enroll"])):
        np.testing.assert_allclose([est.estimate, est.se], [r["estimate"], r["se"]], rtol=RTOL)
        assert est.df == ref["degf"]
    table = design.mean("api00", by="stype")
    for dom, r in ref["svyby_api00_stype"].items():
        np.testing.assert_allclose(table.loc[dom, ["estimate", "se"]].to_numpy(float),
                                   [r["estimate"], r["se"]], rtol=RTOL)


def test_fail_names_the_stratum():
    with pytest.raises(ValueError, match=r"Stratum \(C\) has only one PSU at stage 1"):
        lonely("fail").mean("api00")


def test_unknown_option_is_rejected():
    with pytest.raises(ValueError, match="lonely_psu"):
        lonely("ignore")


def test_certainty_stratum_with_full_fpc_is_not_lonely():
    data = api("lonely_apiclus1").assign(N=lambda d: np.where(d.lstrat == "C", 1, 100))
    design = SurveyDesign(data, weights="pw", psu="dnum", strata="lstrat", fpc="N")
    assert design.mean("api00").se > 0
