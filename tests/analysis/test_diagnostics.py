"""Weight diagnostics against R (api_k_diagnostics.json, from diagnostics.R)."""
import numpy as np
import pytest

from analysis.diagnostics import trimmed_share, weight_diagnostics
from tests.analysis.reference import RTOL, reference
from tests.analysis.test_weighting_reference import POP_SCHWIDE, POP_TYPES, dclus1

REF = reference("diagnostics")


def check(diag, ref):
    for key, value in ref.items():
        if value is None:
            assert getattr(diag, key) is None
        else:
            np.testing.assert_allclose(getattr(diag, key), value, rtol=RTOL, err_msg=key)


def test_diagnostics_of_raked_and_trimmed_weights_match_r():
    raked = dclus1().rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    check(weight_diagnostics(raked.weights), REF["raked"])
    mean = raked.weights.mean()
    lower, upper = 0.8 * mean, 1.5 * mean
    trimmed = raked.trim(lower, upper)
    diag = weight_diagnostics(trimmed.weights, trimmed_share(raked.weights, lower, upper))
    check(diag, REF["trimmed"])
    assert diag.kish_deff == pytest.approx(1 + diag.cv ** 2, rel=1e-12)
    est = trimmed.mean("api00")
    ref = REF["trimmed_svymean_api00"]
    np.testing.assert_allclose([est.estimate, est.se], [ref["estimate"], ref["se"]], rtol=RTOL)
    assert est.n_eff == pytest.approx(est.n / est.deff, rel=1e-15)


def test_zero_weights_are_not_counted_and_all_zero_is_refused():
    diag = weight_diagnostics(np.array([0.0, 1.0, 3.0]))
    assert diag.n == 2 and diag.minimum == 1.0 and diag.to_dict()["maximum"] == 3.0
    with pytest.raises(ValueError, match="no row has a positive weight"):
        weight_diagnostics(np.zeros(3))
