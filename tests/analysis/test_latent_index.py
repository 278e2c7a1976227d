"""analysis.latent_index: the importance-weighted PLS index, its replicate standard errors
and the importance-performance quadrants, on plspm's ECSI data (tests/analysis/data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis import SurveyDesign
from analysis.latent_index import latent_index
from analysis.pls import pls_path_model

ECSI = pd.read_csv(Path(__file__).parent / "data" / "pls_ecsi.csv")
DIMS = {"IMAG": [f"imag{i}" for i in range(1, 6)], "EXPE": [f"expe{i}" for i in range(1, 6)],
        "QUAL": [f"qual{i}" for i in range(1, 6)], "VAL": [f"val{i}" for i in range(1, 5)]}
OVERALL = [f"sat{i}" for i in range(1, 5)]


@pytest.fixture(scope="module")
def frame():
    data = ECSI.copy()
    data["stratum"] = np.arange(len(data)) % 4
    data["w"] = 1 + (np.arange(len(data)) % 5) / 4
    return data


@pytest.fixture(scope="module")
def replicates(frame):
    return SurveyDesign(frame, weights="w", strata="stratum").replicate("jkn")


def test_index_is_importance_weighted_performance(frame, replicates):
    result = latent_index(frame, replicates, DIMS, OVERALL, item_range=(1, 10))
    fit = pls_path_model(frame, DIMS | {"overall": OVERALL}, {"overall": list(DIMS)},
                         weights=frame["w"].to_numpy(), item_range=(1, 10))
    table = result.dimensions
    assert_allclose(table["importance"], fit.total_effects.loc["overall", list(DIMS)])
    assert_allclose(table["performance"], fit.means[list(DIMS)])
    assert table["weight"].sum() == pytest.approx(1)
    assert result.index == pytest.approx((table["weight"] * table["performance"]).sum())
    assert result.overall == pytest.approx(fit.means["overall"])
    assert result.ci_low < result.index < result.ci_high
    assert result.method == "jkn" and result.replicates == len(frame)
    assert set(table["quadrant"]) <= {"keep", "improve", "secondary", "surplus"}
    high = table["importance"] >= table["importance"].mean()
    assert (table.loc[high & (table["performance"] < table["performance"].mean()),
                      "quadrant"] == "improve").all()


def test_single_item_performance_se_is_the_replicate_se_of_the_mean(frame, replicates):
    """One item per dimension: performance is the item's 0-100 mean, so its replicate SE
    must equal ReplicateDesign.mean's (R's svrVar)."""
    single = {"IMAG": ["imag1"], "EXPE": ["expe1"], "QUAL": ["qual1"]}
    result = latent_index(frame, replicates, single, ["sat1"], item_range=(1, 10))
    for name, (item,) in single.items():
        mean = replicates.mean(item)
        assert result.dimensions.at[name, "performance"] == pytest.approx(
            (mean.estimate - 1) / 9 * 100, rel=1e-12)
        assert result.dimensions.at[name, "performance_se"] == pytest.approx(
            mean.se / 9 * 100, rel=1e-10)


def test_domain_fits_its_own_rows(frame, replicates):
    domain = (frame["stratum"] < 2).to_numpy()
    result = latent_index(frame, replicates, DIMS, OVERALL, domain=domain, item_range=(1, 10))
    part = frame[domain]
    fit = pls_path_model(part, DIMS | {"overall": OVERALL}, {"overall": list(DIMS)},
                         weights=part["w"].to_numpy(), item_range=(1, 10))
    assert_allclose(result.dimensions["performance"], fit.means[list(DIMS)])
    assert result.n == domain.sum() and result.se > 0


def test_refuses_a_model_without_two_dimensions(frame, replicates):
    with pytest.raises(ValueError, match="two dimensions"):
        latent_index(frame, replicates, {"IMAG": DIMS["IMAG"]}, OVERALL)
