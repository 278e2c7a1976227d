"""Integer coding of design variables gives exactly what pandas' factorize gives."""
import numpy as np
import pandas as pd
import pytest

from analysis.codes import combine, dense_codes, factorize, row_units


@pytest.mark.parametrize("column", [
    pd.Series(pd.Categorical(["b", "a", None, "b"], categories=["z", "b", "c", "a"])),
    pd.Series(pd.Categorical(["b", "a", "b"], categories=["c", "b", "a"], ordered=True)),
    pd.Series(pd.Categorical(["b", "a", "b"], categories=["b", "a"])),
    pd.Series(["b", "a", None, "c", "a"]),
    pd.Series([3.0, 1.0, np.nan, 3.0]),
])
def test_factorize_matches_pandas_sorted_factorize(column):
    codes, uniques = factorize(column)
    expected_codes, expected_uniques = pd.factorize(column, sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert codes.dtype == np.int64
    pd.testing.assert_index_equal(uniques, pd.Index(expected_uniques))


@pytest.mark.parametrize("size", [50, 10**9])  # counted, and hashed
def test_dense_codes_number_distinct_keys_in_sorted_order(size):
    key = np.array([40, 7, 40, 3, 7, 49]) * (size // 50)
    codes, uniques = dense_codes(key, size)
    np.testing.assert_array_equal(codes, [2, 1, 2, 0, 1, 3])
    np.testing.assert_array_equal(uniques, np.sort(np.unique(key)))


def test_combine_numbers_observed_combinations_and_skips_missing():
    first = np.array([1, 0, 1, -1, 0, 1])
    second = np.array([2, 2, 0, 1, 2, -1])
    codes, parts = combine([first, second], [2, 3])
    np.testing.assert_array_equal(codes, [2, 0, 1, -1, 0, -1])
    np.testing.assert_array_equal(parts[0], [0, 1, 1])
    np.testing.assert_array_equal(parts[1], [2, 0, 2])


@pytest.mark.parametrize("rows, groups", [(0, 1), (1, 1), (1000, 3), (5000, 4000), (70000, 40000)])
def test_row_units_are_the_combinations_of_group_and_row(rows, groups):
    """Rows as PSUs (a design without clusters): the codes combine() gives, by sorting."""
    outer = np.random.default_rng(rows).integers(0, groups, rows)
    unit, unit_outer = row_units(outer)
    expected, (expected_outer, _rows) = combine([outer, np.arange(rows)], [groups, max(rows, 1)])
    assert unit.dtype == expected.dtype == np.int64 and unit_outer.dtype == np.int64
    np.testing.assert_array_equal(unit, expected)
    np.testing.assert_array_equal(unit_outer, expected_outer)
