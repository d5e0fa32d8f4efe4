"""Changepoint detection scored with the NAB metric as the SKAB benchmark computes it.

Each labelled changepoint opens a scoring window of ``window`` to its right (SKAB: 60 s; where windows
overlap, the later one starts where the earlier ends). In each window the first predicted changepoint
is a true positive worth between ``a_tp`` (at the window's start) and ``a_fp`` (at its end) along a scaled
tanh curve; a window without one is a miss worth ``a_fn``; every predicted changepoint outside all
windows is a false positive worth ``a_fp``. The sum over all files is normalised so that the null
detector (no predictions) scores 0 and the perfect one 100. ParkBrain's predicted changepoints are the
rows where its 0/1 anomaly decision changes, in either direction (the SKAB labels mark both the start
and the end of each fault).

Source: SKAB ``core/metrics.py`` (``chp_score``, ``single_evaluate_nab``, ``my_scale``; github.com/waico/SKAB,
from the tsad library) and Lavin & Ahmad, *Evaluating real-time anomaly detection algorithms — the
Numenta Anomaly Benchmark*, 2015 (application profiles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class NabProfile:
    """An application profile: the weight of a true positive, false positive and missed changepoint."""

    name: str
    a_tp: float
    a_fp: float
    a_fn: float


# Source: NAB application profiles as SKAB's core/metrics.py tabulates them (Standard, LowFP, LowFN).
PROFILES = (
    NabProfile("standard", 1.0, -0.11, -1.0),
    NabProfile("low_fp", 1.0, -0.22, -1.0),
    NabProfile("low_fn", 1.0, -0.11, -2.0),
)
WINDOW = pd.Timedelta(seconds=60)  # SKAB leaderboard: 60 s to the right of each true changepoint
CURVE_POINTS = 1000  # resolution of the scaled tanh curve (SKAB: detalization=1000)


@dataclass(frozen=True)
class NabCounts:
    """One file's (or a sum of files') windows, hits with their relative position, and false positives."""

    windows: int
    hit_positions: tuple[float, ...]  # where in its window each first detection fell, 0 (start) … 1 (end)
    false_positives: int

    def __add__(self, other: NabCounts) -> NabCounts:
        return NabCounts(
            self.windows + other.windows,
            self.hit_positions + other.hit_positions,
            self.false_positives + other.false_positives,
        )


@dataclass(frozen=True)
class NabScore:
    """NAB scores (0 null detector, 100 perfect) per profile, with the misses and false positives."""

    standard: float
    low_fp: float
    low_fn: float
    missed: int
    false_positives: int


def changepoints(decisions: np.ndarray) -> np.ndarray:
    """Rows where a 0/1 decision changes (either way), as 0/1."""
    d = np.asarray(decisions).astype(int)
    return np.r_[0, np.abs(np.diff(d))] if len(d) else d


def compute_nab_counts(
    times: pd.DatetimeIndex, true_cp: np.ndarray, predicted_cp: np.ndarray, window: pd.Timedelta = WINDOW
) -> NabCounts:
    """Windows to the right of each true changepoint, the first prediction in each, the rest as FPs."""
    t = pd.DatetimeIndex(times).as_unit("ns").asi8
    starts = t[np.asarray(true_cp).astype(bool)]
    ends = starts + window.value
    starts = np.r_[starts[:1], np.maximum(starts[1:], ends[:-1])]  # overlaps: cut the later window
    pred = t[np.asarray(predicted_cp).astype(bool)]
    inside = np.zeros(len(pred), dtype=bool)
    positions = []
    for a, b in zip(starts, ends):
        hit = (pred >= a) & (pred <= b)
        inside |= hit
        if hit.any() and b > a:
            positions.append(float((pred[hit][0] - a) / (b - a)))
    return NabCounts(len(starts), tuple(positions), int((~inside).sum()))


def _tp_value(position: float, profile: NabProfile) -> float:
    x = np.linspace(-np.pi / 2, np.pi / 2, CURVE_POINTS)
    half = (profile.a_tp - profile.a_fp) / 2
    y = -half * np.tanh(x) / np.tanh(np.pi / 2) + half + profile.a_fp
    return float(y[min(int(position * CURVE_POINTS), CURVE_POINTS - 1)])


def compute_nab_score(counts: NabCounts) -> NabScore:
    """Normalised NAB scores of the summed counts (100 × (score − null) / (perfect − null))."""
    scores = []
    for p in PROFILES:
        raw = p.a_fp * counts.false_positives + p.a_fn * (counts.windows - len(counts.hit_positions))
        raw += sum(_tp_value(pos, p) for pos in counts.hit_positions)
        null, perfect = counts.windows * p.a_fn, counts.windows * p.a_tp
        scores.append(round(100 * (raw - null) / (perfect - null), 2) if perfect != null else 0.0)
    return NabScore(*scores, counts.windows - len(counts.hit_positions), counts.false_positives)
