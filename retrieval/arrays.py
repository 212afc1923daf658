"""Sorted distinct values and membership of integer arrays, without importing numpy.ma.

numpy 2's `np.unique` (and `isin`, `intersect1d`, which call it) asks `np.ma.is_masked` of its input, and
the first touch of `np.ma` imports it: 0.56 s of a cold `usru ask` on this machine, for arrays that are
never masked. These do the same with a sort.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def distinct(values: npt.ArrayLike) -> npt.NDArray[Any]:
    """The sorted distinct values (as np.unique gives them)."""
    ordered = np.sort(np.asarray(values).reshape(-1))
    return ordered[_firsts(ordered)]


def distinct_inverse(values: npt.ArrayLike) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """The sorted distinct values, and for each input value its place among them (np.unique's inverse)."""
    flat = np.asarray(values).reshape(-1)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    firsts = _firsts(ordered)
    inverse = np.empty(len(flat), dtype=np.intp)
    inverse[order] = np.cumsum(firsts) - 1
    return ordered[firsts], inverse


def common(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[Any]:
    """The sorted distinct values found in both arrays (np.intersect1d)."""
    left, right = distinct(a), distinct(b)
    return left[contains(left, right)]


def contains(values: npt.ArrayLike, pool: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """For each value, whether the pool holds it (np.isin)."""
    wanted = np.asarray(values)
    ordered = distinct(pool)
    if not len(ordered):
        return np.zeros(wanted.shape, dtype=bool)
    at = np.searchsorted(ordered, wanted).clip(0, len(ordered) - 1)
    found: npt.NDArray[np.bool_] = ordered[at] == wanted
    return found


def run_starts(ordered: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Where each run of equal values starts in a sorted array (np.unique's return_index, for sorted input)."""
    return np.flatnonzero(_firsts(np.asarray(ordered)))


def _firsts(ordered: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where each run of equal values starts in a sorted array."""
    firsts = np.ones(len(ordered), dtype=bool)
    if len(ordered) > 1:
        np.not_equal(ordered[1:], ordered[:-1], out=firsts[1:])
    return firsts
