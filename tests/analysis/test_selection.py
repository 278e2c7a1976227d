"""Street draws against R's sampling package (tests/analysis/data/selection.json)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.selection import brewer, draw, inclusion_probabilities
from tests.analysis.reference import DATA_DIR

BLOCKS = json.loads((DATA_DIR / "selection.json").read_text())["blocks"]


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_inclusion_probabilities_match_r(name):
    block = BLOCKS[name]
    np.testing.assert_allclose(inclusion_probabilities(block["sizes"], block["n"]), block["pik"],
                               rtol=1e-12)


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_brewer_replays_r_draws(name):
    block = BLOCKS[name]
    for case in block["brewer"]:
        drawn = brewer(block["pik"], iter(case["uniforms"]))
        assert (np.flatnonzero(drawn) + 1).tolist() == case["selected"], case["seed"]


def test_brewer_inclusion_frequencies_are_the_probabilities():
    sizes = BLOCKS["certainty"]["sizes"]
    pik = inclusion_probabilities(sizes, 4)
    counts = np.zeros(len(sizes))
    runs = 4000
    for seed in range(runs):
        drawn, _ = draw("pps", sizes, 4, seed)
        assert drawn.sum() == 4
        counts += drawn
    # binomial standard error of a frequency is at most 0.5/sqrt(4000) = 0.008: allow 4 of them
    np.testing.assert_allclose(counts / runs, pik, atol=0.032)


def test_srs_draw_is_seeded_and_states_n_over_n():
    first, pi = draw("srs", [1] * 10, 3, 42)
    again, _ = draw("srs", [1] * 10, 3, 42)
    assert first.sum() == 3 and (first == again).all()
    assert pi.tolist() == [0.3] * 10


def test_a_draw_larger_than_the_frame_is_refused():
    with pytest.raises(ValueError, match="between 0 and 3"):
        draw("pps", [1, 2, 3], 4, 1)
    with pytest.raises(ValueError, match="selection"):
        draw("cube", [1, 2, 3], 1, 1)
