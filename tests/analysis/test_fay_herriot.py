"""analysis.fay_herriot against R sae's eblupFH / mseFH (tests/analysis/r/fay_herriot.R)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.fay_herriot import FayHerriotError, fay_herriot
from tests.analysis.reference import DATA_DIR

REFERENCE = json.loads((DATA_DIR / "fay_herriot.json").read_text())
CASES = ("milk", "milk_tight", "streets", "streets_tight", "flat")
RTOL = 1e-10


def _fit(case: dict, extra: int = 0):
    X = np.column_stack(case["X"])
    y, vardir = np.asarray(case["y"]), np.asarray(case["vardir"])
    if extra:
        X = np.vstack([X, np.column_stack(case["new_X"])])
        y = np.append(y, [np.nan] * extra)
        vardir = np.append(vardir, [np.nan] * extra)
    return fay_herriot(y, vardir, X, precision=case["precision"])


@pytest.mark.parametrize("name", CASES)
def test_matches_sae(name):
    case = REFERENCE[name]
    fit = _fit(case)
    if case["precision"] >= 1e-6:  # at 1e-12 the count depends on rounding in the traces
        assert fit.iterations == case["iterations"]
    np.testing.assert_allclose(fit.refvar, case["refvar"], rtol=RTOL, atol=1e-13)
    np.testing.assert_allclose(fit.beta, case["beta"], rtol=RTOL)
    np.testing.assert_allclose(fit.beta_se, case["beta_se"], rtol=RTOL)
    np.testing.assert_allclose(fit.loglike, case["loglike"], rtol=RTOL)
    np.testing.assert_allclose(fit.eblup, case["eblup"], rtol=RTOL)
    np.testing.assert_allclose(fit.mse, case["mse"], rtol=RTOL)


@pytest.mark.parametrize("name", ("streets", "streets_tight", "flat"))
def test_unsampled_areas_get_the_synthetic_estimate(name):
    case = REFERENCE[name]
    fit = _fit(case, extra=2)
    np.testing.assert_allclose(fit.refvar, case["refvar"], rtol=RTOL, atol=1e-13)
    np.testing.assert_allclose(fit.eblup[:-2], case["eblup"], rtol=RTOL)
    np.testing.assert_allclose(fit.mse[:-2], case["mse"], rtol=RTOL)
    np.testing.assert_allclose(fit.eblup[-2:], case["new_synthetic"], rtol=RTOL)
    np.testing.assert_allclose(fit.mse[-2:], case["new_mse"], rtol=RTOL)
    assert list(fit.sampled[-2:]) == [False, False]
    assert list(fit.shrinkage[-2:]) == [0.0, 0.0]


def test_shrinkage_and_interval():
    fit = _fit(REFERENCE["streets"])
    case = REFERENCE["streets"]
    psi = np.asarray(case["vardir"])
    np.testing.assert_allclose(fit.shrinkage, fit.refvar / (fit.refvar + psi))
    low, high = fit.interval()
    np.testing.assert_allclose((high - low) / 2, 1.959963984540054 * np.sqrt(fit.mse))
    # the model borrows strength where the direct estimate is weak (few responses)
    assert (fit.mse[:5] < psi[:5]).all()


def test_a_truncated_at_zero_is_pure_synthetic():
    fit = _fit(REFERENCE["flat"])
    assert fit.refvar == 0.0
    np.testing.assert_allclose(fit.eblup, fit.synthetic)


def test_refuses_what_cannot_be_fitted():
    X = np.ones((3, 2))
    with pytest.raises(FayHerriotError, match="collinear"):
        fay_herriot(np.array([1.0, 2.0, 3.0]), np.ones(3), X)
    with pytest.raises(FayHerriotError, match="cannot fit"):
        fay_herriot(np.array([1.0, np.nan, 3.0]), np.ones(3), np.column_stack([np.ones(3),
                                                                             [1.0, 2, 4]]))
    with pytest.raises(FayHerriotError, match="positive"):
        fay_herriot(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 1.0]), np.ones((3, 1)))
