"""Wave-to-wave changes and within-wave domain contrasts."""
import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign
from analysis.results import Estimate
from analysis.trends import contrast, difference, versus_overall
from tests.analysis.test_estimates_reference import dclus1, printed


def wave(shift: float, n: int = 2400, seed: int = 3) -> SurveyDesign:
    """A wave of ``n`` responses in 16 districts x 10 streets with SD ~12 points."""
    rng = np.random.default_rng(seed)
    district = rng.integers(0, 16, n)
    data = pd.DataFrame({"district": district, "street": district * 10 + rng.integers(0, 10, n),
                         "w": rng.uniform(0.8, 1.25, n),
                         "index": rng.normal(90.07, 12, n) + shift})
    return SurveyDesign(data, weights="w", strata="district", psu="street")


def test_plus_017_on_2400_responses_is_not_significant():
    before, after = wave(0.0), wave(0.17)
    change = difference(after.mean("index"), before.mean("index"))
    assert change.estimate == pytest.approx(0.17, abs=1e-9)
    # SE of a mean of 2,400 responses with SD ~12 is ~0.25; of the change ~0.35
    assert 0.3 < change.se < 0.45
    assert change.p_value > 0.5 and not change.significant
    assert change.verdict == "not significant" and change.ci_low < 0 < change.ci_high


def test_a_clearly_large_change_is_significant():
    change = difference(wave(3.0).mean("index"), wave(0.0).mean("index"))
    assert change.significant and change.p_value < 1e-6 and change.ci_low > 0


def test_independent_difference_formula():
    a = Estimate("mean", "index", 90.24, 0.3, 0, 0, 150.0, 1.0, 2400, 0.95, "t", "linearization")
    b = Estimate("mean", "index", 90.07, 0.4, 0, 0, 150.0, 1.0, 2400, 0.95, "t", "linearization")
    change = difference(a, b, ci="normal")
    assert change.se == pytest.approx(0.5)
    assert change.p_value == pytest.approx(0.7338565, abs=1e-6)  # z = 0.34, 2 * (1 - Phi(z))
    assert change.df == np.inf and change.method == "independent"
    dependent = difference(a, b, covariance=0.05)
    assert dependent.se == pytest.approx(np.sqrt(0.25 - 0.1)) and dependent.method == "dependent"


def test_difference_of_domain_tables_aligns_domains():
    before = wave(0.0).mean("index", by="district")
    after = wave(5.0).mean("index", by="district").drop(index=[3])
    table = difference(after, before)
    assert list(table.columns[:8]) == ["estimate", "se", "ci_low", "ci_high", "df", "t",
                                       "p_value", "significant"]
    assert 3 not in table.index and len(table) == 15
    np.testing.assert_allclose(table["estimate"], 5.0, atol=1e-9)
    np.testing.assert_allclose(table["se"] ** 2, after["se"] ** 2 + before.loc[after.index, "se"] ** 2)
    assert table["significant"].all()


def test_within_wave_contrast_uses_the_covariance():
    table = dclus1().mean("api99", by="stype", covmat=True)
    e_minus_m = contrast(table, {"E": 1, "M": -1})
    printed(e_minus_m.se, "14.54236")
    assert e_minus_m.method == "covariance" and e_minus_m.df == 14
    assert e_minus_m.estimate == pytest.approx(607.7917 - 608.6, abs=1e-4)
    assert not e_minus_m.significant
    with pytest.raises(ValueError, match="covmat=True"):
        contrast(dclus1().mean("api99", by="stype"), {"E": 1, "M": -1})


def test_domain_versus_overall_matches_an_explicit_contrast():
    design = dclus1()
    table = versus_overall(design, "api00", "stype")
    overall = design.mean("api00").estimate
    by = design.mean("api00", by="stype")
    np.testing.assert_allclose(table["estimate"], by["estimate"] - overall, rtol=1e-12)
    # the overall mean is a weighted sum of domain means with estimated shares, so the SE of
    # a domain minus the overall must be smaller than treating them as independent
    assert (table["se"] < np.sqrt(by["se"] ** 2 + design.mean("api00").se ** 2)).all()
    # cross-check with influence values computed by hand for domain E
    data = design.data
    w = design.weights
    z_all = w * (data["api00"] - overall) / w.sum()
    inE = data["stype"] == "E"
    z_e = np.where(inE, w * (data["api00"] - by.loc["E", "estimate"]) / w[inE].sum(), 0)
    z = pd.Series(z_e - z_all).groupby(data["dnum"]).sum()
    n, f = 15, 15 / 757
    se = np.sqrt((1 - f) * n / (n - 1) * ((z - z.mean()) ** 2).sum())
    assert table.loc["E", "se"] == pytest.approx(se, rel=1e-10)
