"""Allocations and expected precision against hand-verifiable textbook figures."""
from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.allocation import (
    allocate,
    bounded_shares,
    largest_remainder,
    srs_half_width,
    stratified_half_width,
)

SIZES = [1000, 4000, 9000]


def test_proportional_is_n_times_the_share():
    # 1400 * (1000, 4000, 9000) / 14000 = 100, 400, 900 exactly
    assert allocate("proportional", SIZES, 1400).tolist() == [100, 400, 900]


def test_square_root_allocation_by_hand():
    # sqrt sizes 31.62, 63.25, 94.87 (sum 189.74): 1400 * each / sum = 233.3, 466.7, 700.0
    assert allocate("sqrt", SIZES, 1400).tolist() == [233, 467, 700]


def test_neyman_allocation_by_hand():
    # N_h S_h = 1000*10, 4000*5, 9000*2 = 10000, 20000, 18000 (sum 48000); n = 960
    # shares 200, 400, 360 exactly
    assert allocate("neyman", SIZES, 960, sds=[10, 5, 2]).tolist() == [200, 400, 360]


def test_minimum_is_a_floor_and_the_rest_is_shared_again():
    # proportional 100 * (10, 30, 960)/1000 = 1, 3, 96; minimum 10 fixes the first two at 10
    # and shares 80 over the third alone
    assert allocate("proportional", [10, 30, 960], 100, minimum=10).tolist() == [10, 10, 80]


def test_a_stratum_never_gets_more_than_its_population():
    # N_h S_h = 500, 4000, 1000: the first share, 1000 * 500/5500 = 90.9, exceeds its 50
    # people; fixed at 50, the other 950 go 4:1
    assert allocate("neyman", [50, 4000, 1000], 1000, sds=[10, 1, 1]).tolist() == [50, 760, 190]


def test_largest_remainder_keeps_the_total():
    # Hamilton's rule: 3.5, 3.3, 3.2 -> floors 3, 3, 3; one left, to the largest fraction
    assert largest_remainder([3.5, 3.3, 3.2], 10).tolist() == [4, 3, 3]
    rng = np.random.default_rng(5)
    for _ in range(50):
        sizes = rng.integers(100, 100_000, size=12)
        total = int(rng.integers(200, 2000))
        n = allocate("sqrt", sizes, total, minimum=5)
        assert n.sum() == total and n.min() >= 5


def test_impossible_totals_are_refused_with_the_bounds():
    with pytest.raises(ValueError, match="between 30"):
        allocate("proportional", SIZES, 20, minimum=10)
    with pytest.raises(ValueError, match="neyman"):
        allocate("neyman", SIZES, 100)
    with pytest.raises(ValueError, match="method"):
        allocate("optimal", SIZES, 100)


def test_bounded_shares_sum_to_the_total():
    share = bounded_shares([1, 1, 100], 60, [10, 10, 10], [15, 15, 30])
    assert share.sum() == pytest.approx(60) and share.tolist() == [15, 15, 30]


def test_srs_half_width_with_fpc():
    # n = 100 of N = 1000, S = 2: 1.96 * sqrt(0.9 * 4 / 100) = 1.96 * 0.18974 = 0.37189
    assert srs_half_width(1000, 100, 2.0) == pytest.approx(1.959963984540054 * math.sqrt(0.036))
    assert srs_half_width(100, 100, 2.0) == 0.0  # a census has no sampling error
    assert srs_half_width(100, 0, 2.0) == math.inf


def test_stratified_half_width_by_hand():
    # W = 0.25, 0.75; terms 0.0625*(1-10/100)*4/10 = 0.0225 and 0.5625*(1-30/300)*1/30 = 0.016875
    expected = 1.959963984540054 * math.sqrt(0.0225 + 0.016875)
    assert stratified_half_width([100, 300], [10, 30], [2, 1]) == pytest.approx(expected)
