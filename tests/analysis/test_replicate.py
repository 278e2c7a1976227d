"""Replicate-weight designs against R's as.svrepdesign (api_f_replicate.json)."""
import hashlib

import numpy as np
import pytest

from analysis import SurveyDesign, replicate
from tests.analysis.reference import RTOL, reference
from tests.analysis.test_estimates_reference import dclus1, dstrat, printed

REF = reference("replicate")["replicate"]


@pytest.mark.parametrize("key,fpc,mse", [("dclus1_JK1", True, False),
                                         ("dclus1_JK1_mse", True, True),
                                         ("dclus1_nofpc_JK1", False, False)])
def test_jk1_matches_r(key, fpc, mse):
    ref = REF[key]
    rep = dclus1(fpc).replicate("jk1", mse=mse)
    assert rep.replicate_weights.shape == (ref["n_replicates"], 183)
    np.testing.assert_allclose(rep.scale, ref["scale"], rtol=RTOL)
    np.testing.assert_allclose(rep.rscales, ref["rscales"])
    est = rep.mean("api00")
    assert est.method == "jk1"
    np.testing.assert_allclose([est.estimate, est.se], [ref["estimate"], ref["se"]], rtol=RTOL)
    table = rep.mean("api00", by="stype")
    for dom, r in ref["svyby_api00_stype"].items():
        np.testing.assert_allclose(table.loc[dom, ["estimate", "se"]].to_numpy(float),
                                   [r["estimate"], r["se"]], rtol=RTOL)


@pytest.mark.parametrize("key,fpc", [("dstrat_JKn", True), ("dstrat_nofpc_JKn", False)])
def test_jkn_matches_r(key, fpc):
    ref = REF[key]
    rep = dstrat(fpc).replicate("jkn")
    assert rep.replicate_weights.shape[0] == ref["n_replicates"]
    est = rep.mean("api00")
    np.testing.assert_allclose([est.estimate, est.se], [ref["estimate"], ref["se"]], rtol=RTOL)


def test_printed_jk1_values_in_statistics_md():
    printed(dclus1().replicate("jk1").mean("api00").se, "26.329")
    printed(dclus1().replicate("jk1", mse=True).mean("api00").se, "26.335")


def test_bootstrap_is_reproducible_and_close_to_linearisation():
    a = dclus1().replicate("bootstrap", replicates=400, seed=7).mean("api00")
    b = dclus1().replicate("bootstrap", replicates=400, seed=7).mean("api00")
    assert a == b and a.method == "bootstrap"
    assert a.se == pytest.approx(dclus1(fpc=False).mean("api00").se, rel=0.25)


# SHA-256 of the bootstrap replicate weights (50 replicates, seed 7) as the code before the
# remembered draws made them (be2337e): the memory must give the same stream's draws, cold or warm.
BOOTSTRAP_DIGESTS = {
    "dclus1": "b816d7ec3990eade701693f6febf0d00bfcfb4c1f4ff60f1849f0d2ed9f68f93",
    "dstrat": "2264468f72e34193f64a609adf85d2243f51cb9c61514519ca37f42565d3e8b5",
}


@pytest.mark.parametrize("name,design", [("dclus1", dclus1), ("dstrat", dstrat)])
def test_remembered_bootstrap_draws_are_the_seeded_streams(name, design):
    replicate._DRAWS.clear()
    for _cold_then_warm in range(2):
        weights = design().replicate("bootstrap", replicates=50, seed=7).replicate_weights
        assert hashlib.sha256(weights.tobytes()).hexdigest() == BOOTSTRAP_DIGESTS[name]
    assert len(replicate._DRAWS) == 1
    unseeded = [design().replicate("bootstrap", replicates=50).replicate_weights
                for _ in range(2)]
    assert not np.array_equal(*unseeded) and len(replicate._DRAWS) == 1


def test_jk1_refuses_strata_and_replicate_counts():
    with pytest.raises(ValueError, match="use 'jkn'"):
        dstrat().replicate("jk1")
    with pytest.raises(ValueError, match="leave replicates unset"):
        dclus1().replicate("jk1", replicates=10)
    with pytest.raises(ValueError, match="method must be one of"):
        dclus1().replicate("sdr")


def test_weighting_is_redone_on_every_replicate():
    raked = dclus1().rake({"stype": {"E": 4421, "H": 755, "M": 1018},
                           "sch.wide": {"No": 1072, "Yes": 5122}})
    rep = raked.replicate("jk1")
    sums = rep.replicate_weights.sum(axis=1)
    np.testing.assert_allclose(sums, 6194, rtol=1e-3)
    est = rep.mean("api00")
    assert est.estimate == pytest.approx(raked.mean("api00").estimate, rel=1e-12)
    # jackknife and linearisation agree to within the usual 10-15% on 15 PSUs
    assert est.se == pytest.approx(raked.mean("api00").se, rel=0.15)


def test_replicate_proportion_and_totals():
    rep = dclus1().replicate("jk1")
    prop = rep.proportion("sch.wide", "Yes", method="beta")
    assert prop.statistic == "proportion" and prop.interval == "beta"
    assert prop.ci_low < prop.estimate < prop.ci_high
    assert rep.total("enroll").estimate == pytest.approx(3404940.134529114, rel=RTOL)
    assert list(rep.total("enroll", by="stype").index) == ["E", "H", "M"]


def test_lonely_strata_in_jkn_follow_the_option():
    data = dclus1().data.assign(h=lambda d: np.where(d.dnum == 815, "C", "B"))
    with pytest.raises(ValueError, match=r"Stratum \(C\)"):
        SurveyDesign(data, weights="pw", psu="dnum", strata="h").replicate("jkn")
    rep = SurveyDesign(data, weights="pw", psu="dnum", strata="h",
                       lonely_psu="remove").replicate("jkn")
    assert rep.replicate_weights.shape[0] == 14
