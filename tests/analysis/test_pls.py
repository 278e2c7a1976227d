"""analysis.pls against R's plspm 0.5.1 (tests/analysis/r/pls.R; values in
tests/analysis/data/pls_plspm.json): the ECSI model under the three inner schemes, integer
weights against plspm on the rows repeated, fractional weights against the script's weighted
Lohmöller algorithm. Tolerance 1e-8."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.pls import pls_path_model

DATA = Path(__file__).parent / "data"
REF = json.loads((DATA / "pls_plspm.json").read_text())
ECSI = pd.read_csv(DATA / "pls_ecsi.csv")
LVS = REF["lvs"]
BLOCKS = dict(zip(LVS, [ECSI.columns[a:b].tolist() for a, b in
                        [(0, 5), (5, 10), (10, 15), (15, 19), (19, 23), (23, 27)]]))
PATHS = {"EXPE": ["IMAG"], "QUAL": ["EXPE"], "VAL": ["EXPE", "QUAL"],
         "SAT": ["IMAG", "EXPE", "QUAL", "VAL"], "LOY": ["IMAG", "SAT"]}
TOL = 1e-8


def _check(fit, ref, scores=True):
    assert fit.iterations == ref["iterations"]
    assert_allclose(fit.outer["weight"], ref["outer_weight"], rtol=0, atol=TOL)
    assert_allclose(fit.outer["loading"], ref["loading"], rtol=0, atol=TOL)
    assert_allclose(fit.path_coefs.to_numpy(), ref["path_coefs"], rtol=0, atol=TOL)
    assert_allclose(fit.total_effects.to_numpy(), ref["total_effects"], rtol=0, atol=TOL)
    assert_allclose(fit.r_squared, ref["r_squared"], rtol=0, atol=TOL)
    assert_allclose(fit.means, ref["acsi_means"], rtol=0, atol=TOL)
    if scores:
        assert_allclose(fit.scores.to_numpy(), np.array(ref["scores"]).T, rtol=0, atol=TOL)


@pytest.mark.parametrize("scheme", ["centroid", "factorial", "path"])
def test_ecsi_matches_plspm(scheme):
    ref = REF[f"ecsi_{scheme}"]
    fit = pls_path_model(ECSI, BLOCKS, PATHS, scheme=scheme)
    _check(fit, ref)
    # plspm's rescale(): standardised weights normalised per block, on the raw items
    plspm_rescaled = [ECSI[items].to_numpy() @ (w := fit.outer.loc[items, "weight"]) / w.sum()
                      for items in BLOCKS.values()]
    assert_allclose([s.mean() for s in plspm_rescaled], ref["rescale_means"], rtol=0, atol=TOL)
    # plspm's own total-effects listing, relationship by relationship
    total = fit.total_effects.to_numpy()
    listed = [total[i, j] for j in range(6) for i in range(j + 1, 6)]
    assert_allclose(listed, ref["total_effects_plspm"], rtol=0, atol=TOL)


@pytest.mark.parametrize("scheme", ["centroid", "path"])
def test_integer_weights_equal_repeated_rows(scheme):
    small = ECSI.iloc[:80]
    fit = pls_path_model(small, BLOCKS, PATHS, scheme=scheme, weights=np.array(REF["w_int"]),
                         tol=1e-20, maxiter=1000)
    ref = REF[f"expanded_{scheme}"]
    assert_allclose(fit.outer["weight"], ref["outer_weight"], rtol=0, atol=TOL)
    assert_allclose(fit.path_coefs.to_numpy(), ref["path_coefs"], rtol=0, atol=TOL)
    assert_allclose(fit.total_effects.to_numpy(), ref["total_effects"], rtol=0, atol=TOL)
    assert_allclose(fit.r_squared, ref["r_squared"], rtol=0, atol=TOL)
    assert_allclose(fit.means, ref["acsi_means"], rtol=0, atol=TOL)


@pytest.mark.parametrize("scheme", ["centroid", "path"])
def test_fractional_weights_match_weighted_algorithm(scheme):
    fit = pls_path_model(ECSI.iloc[:80], BLOCKS, PATHS, scheme=scheme,
                         weights=np.array(REF["w_frac"]), tol=1e-20, maxiter=1000)
    ref = REF[f"weighted_{scheme}"]
    assert_allclose(fit.outer["weight"], ref["outer_weight"], rtol=0, atol=TOL)
    assert_allclose(fit.outer["loading"], ref["loading"], rtol=0, atol=TOL)
    assert_allclose(fit.path_coefs.to_numpy(), ref["path_coefs"], rtol=0, atol=TOL)
    assert_allclose(fit.r_squared, ref["r_squared"], rtol=0, atol=TOL)
    assert_allclose(fit.scores.to_numpy(), np.array(ref["scores"]).T, rtol=0, atol=TOL)
    assert_allclose(fit.means, ref["acsi_means"], rtol=0, atol=TOL)


def test_rescaled_scores_are_linear_in_standardised_scores():
    fit = pls_path_model(ECSI, BLOCKS, PATHS)
    slope = np.polyfit(fit.scores["SAT"], fit.rescaled["SAT"], 1)[0]
    assert slope == pytest.approx(fit.scale_factor["SAT"], rel=1e-12)
    impacts = fit.impacts("SAT")
    assert list(impacts.index) == ["IMAG", "EXPE", "QUAL", "VAL"]
    assert_allclose(impacts["standardized"], fit.total_effects.loc["SAT", impacts.index])


def test_missing_answers_use_pairwise_correlations_and_renormalised_scores():
    data = ECSI.copy()
    data.iloc[0, 0] = np.nan
    data.iloc[3, 7] = np.nan
    fit = pls_path_model(data, BLOCKS, PATHS)
    assert np.isnan(fit.scores.iloc[0, 0]) and not np.isnan(fit.rescaled.iloc[0, 0])
    w = fit.outer.loc[BLOCKS["IMAG"][1:], "acsi_weight"]
    row = data.loc[0, BLOCKS["IMAG"][1:]]
    assert fit.rescaled.iloc[0, 0] == pytest.approx(((row @ w) / w.sum() - 1) / 9 * 100)


@pytest.mark.parametrize("kwargs, message", [
    ({"scheme": "mode"}, "scheme"),
    ({"paths": {"IMAG": ["SAT"], "SAT": ["IMAG"]}}, "cycle"),
    ({"paths": {"SAT": ["NOPE"]}}, "unknown block"),
    ({"weights": -np.ones(250)}, "weights"),
    ({"maxiter": 2}, "did not converge"),
])
def test_refuses_with_a_reason(kwargs, message):
    args = {"paths": PATHS} | kwargs
    with pytest.raises(ValueError, match=message):
        pls_path_model(ECSI, BLOCKS, **args)
