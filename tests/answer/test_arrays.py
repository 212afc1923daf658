"""The sort-based set operations give what numpy's own do (retrieval/arrays.py)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.arrays import common, contains, distinct, distinct_inverse, run_starts

CASES = [
    np.zeros(0, dtype=np.int64),
    np.array([7], dtype=np.int64),
    np.array([3, 3, 3], dtype=np.int32),
    np.array([5, -2, 9, -2, 0, 5, 5, 11], dtype=np.int64),
    np.random.default_rng(0).integers(-50, 50, size=1_000),
    np.random.default_rng(1).integers(0, 2**40, size=300),
]


@pytest.mark.parametrize("values", CASES)
def test_distinct_is_numpy_s_unique(values: np.ndarray) -> None:
    np.testing.assert_array_equal(distinct(values), np.unique(values))


@pytest.mark.parametrize("values", CASES)
def test_the_inverse_rebuilds_the_input(values: np.ndarray) -> None:
    uniq, inverse = distinct_inverse(values)
    expected, expected_inverse = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(uniq, expected)
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))
    np.testing.assert_array_equal(uniq[inverse], values)


@pytest.mark.parametrize("pool", CASES)
@pytest.mark.parametrize("values", CASES)
def test_contains_and_common_are_isin_and_intersect1d(values: np.ndarray, pool: np.ndarray) -> None:
    np.testing.assert_array_equal(contains(values, pool), np.isin(values, pool))
    np.testing.assert_array_equal(common(values, pool), np.intersect1d(values, pool))


@pytest.mark.parametrize("values", CASES)
def test_run_starts_are_unique_s_first_indices(values: np.ndarray) -> None:
    ordered = np.sort(values)
    np.testing.assert_array_equal(run_starts(ordered), np.unique(ordered, return_index=True)[1])


def test_contains_keeps_the_shape_of_a_list_pool() -> None:
    held = contains(np.array([[1, 2], [3, 4]]), [4, 1])
    assert held.tolist() == [[True, False], [False, True]]
