"""Our Canty-Davison bootstrap generator (R's draws cannot be reproduced: see the reference
test with R's exported weights): its multipliers have the moments the method promises."""
import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign
from analysis.replicate_build import bootstrap_multipliers


def synthetic(fpc: bool) -> SurveyDesign:
    """Three strata of 10 sampled PSUs (of 20 in the population), 4 rows per PSU."""
    rng = np.random.default_rng(5)
    rows = [(h, j, 20) for h in range(3) for j in range(10) for _ in range(4)]
    data = pd.DataFrame(rows, columns=["stratum", "psu", "N"])
    data["y"] = rng.gamma(2.0, 10.0, len(data)) + 5 * data["stratum"]
    data["w"] = 2.0
    return SurveyDesign(data, weights="w", strata="stratum", psu="psu",
                        fpc="N" if fpc else None)


@pytest.mark.parametrize("fpc", [True, False])
def test_bootstrap_multiplier_moments(fpc):
    design = synthetic(fpc)
    mult, scale = bootstrap_multipliers(design, 2000, np.random.default_rng(11))
    stage = design._stages[0]
    per_stratum = np.stack([mult[:, stage.unit_stratum == h].sum(axis=1) for h in range(3)])
    assert np.all(per_stratum == 10)  # n PSUs drawn in each stratum, every replicate
    n, big_n = 10, 20
    expected = (1 - 1 / n) * ((big_n - n) / (big_n - 1) if fpc else 1.0)
    np.testing.assert_allclose(mult.var(axis=0).mean(), expected, rtol=0.04)
    np.testing.assert_allclose(scale, n / ((n - 1) * 1999))


@pytest.mark.parametrize("fpc", [True, False])
def test_bootstrap_variance_is_unbiased_for_the_linearised_one(fpc):
    """E[v_boot] of a total = V_lin * N/(N-1) with the fpc (sampling without replacement
    from N copies), V_lin without it; the Monte Carlo error of 1500 replicates is ~4%."""
    design = synthetic(fpc)
    boot = design.replicate("bootstrap_cd", replicates=1500, seed=3)
    lin = design.total("y").variance
    factor = 20 / 19 if fpc else 1.0
    np.testing.assert_allclose(boot.total("y").variance, lin * factor, rtol=0.1)
    assert boot.df == design.df  # full rank: PSUs minus strata
