"""Equipment anomaly detection: learn normal behaviour of a set of sensors, score new rows, name the
sensors behind each alert.

The model is a ridge regression of each standardised sensor on all the others, fitted on rows known
(or assumed) to be normal. A row's residual for sensor *j* is how far that sensor is from what the other
sensors say it should be; residuals are standardised by their spread in the training rows, squared, and
the **median** over a trailing window is taken (anomalies on pumps and valves are collective, lasting tens
of seconds: a median needs half the window to be off before it rises, so isolated spikes raise nothing, and
it falls back half a window after a fault ends, where a mean stays up for a whole window).
The row score is the largest smoothed residual divided by the largest seen in training, so a score above
1.0 is an anomaly, and the sensors with the largest residuals are the fault hint.

Slow sensors (temperatures: lag-1 autocorrelation in training at least ``slow_autocorr``) drift for
hours in normal operation, so the model sees their change over ``slow_lag_rows`` rows instead of their
level. Everything is causal (trailing windows only): the same scoring works on stored readings and on
live data as it arrives, given the recent history.

Only numpy: no optional extra is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkbrain.errors import InvalidInput


@dataclass(frozen=True)
class DetectorParams:
    """One set of hyperparameters for every file and device (tuned on SKAB ``valve1/`` only: the highest
    F1 with FAR at most 10 % there, 0.858 / 6.98 %; ``valve2/`` and ``other/`` held out)."""

    train_rows: int = 400  # rows at the start assumed normal (SKAB protocol)
    smooth_rows: int = 45  # trailing window of the median of the squared residuals
    slow_autocorr: float = 0.7  # sensors at least this autocorrelated are seen as changes
    slow_lag_rows: int = 30  # the span of that change
    ridge: float = 1.0  # L2 penalty of each sensor's regression on the others
    threshold_factor: float = 1.0  # alarm above this multiple of the training maximum
    top_sensors: int = 3  # sensors named in a fault hint


DEFAULT_PARAMS = DetectorParams()


@dataclass(frozen=True)
class Detector:
    """A fitted model of normal behaviour."""

    sensors: tuple[str, ...]
    slow: np.ndarray  # bool per sensor
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (sensors + 1) x sensors: column j predicts sensor j (last row: intercept)
    resid_scale: np.ndarray
    threshold: float
    params: DetectorParams


@dataclass(frozen=True)
class Scores:
    """Scores of a run of rows: ``score`` > 1 is anomalous; ``contrib`` is per row and sensor."""

    score: np.ndarray
    anomaly: np.ndarray
    contrib: np.ndarray
    sensors: tuple[str, ...]

    def top_sensors(self, row: int, k: int = 3) -> list[str]:
        """The sensors that contributed most to a row's score, largest first."""
        order = np.argsort(-self.contrib[row])[:k]
        return [self.sensors[i] for i in order]


def _slow_flags(train: np.ndarray, threshold: float) -> np.ndarray:
    a, b = train[:-1], train[1:]
    a = a - a.mean(0)
    b = b - b.mean(0)
    denom = np.sqrt((a**2).sum(0) * (b**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ac = np.where(denom > 0, (a * b).sum(0) / denom, 0.0)
    return ac >= threshold


def _transform(x: np.ndarray, slow: np.ndarray, lag: int) -> np.ndarray:
    out = x.copy()
    for j in np.flatnonzero(slow):
        s = x[:, j]
        before = np.concatenate([np.full(min(lag, len(s)), s[0]), s[:-lag]]) if len(s) > lag else s[:1]
        out[:, j] = s - before[: len(s)]
    return out


def _design(z: np.ndarray, j: int) -> np.ndarray:
    return np.column_stack([np.delete(z, j, axis=1), np.ones(len(z))])


def _residuals(z: np.ndarray, coef: np.ndarray) -> np.ndarray:
    return np.column_stack([z[:, j] - _design(z, j) @ coef[:, j] for j in range(z.shape[1])])


def _smoothed(r: np.ndarray, rows: int) -> np.ndarray:
    return pd.DataFrame(r**2).rolling(rows, min_periods=1).median().to_numpy()


def _check(x: np.ndarray, sensors: tuple[str, ...], what: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(sensors):
        raise InvalidInput(f"{what}: expected a table of {len(sensors)} sensor columns, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidInput(f"{what}: missing or non-finite values; expected numbers in every sensor column")
    return x


def fit_detector(
    train: np.ndarray, sensors: tuple[str, ...] | list[str], params: DetectorParams = DEFAULT_PARAMS
) -> Detector:
    """Learn normal behaviour from ``train`` (rows x sensors, all assumed normal)."""
    sensors = tuple(sensors)
    train = _check(train, sensors, "training rows")
    if len(sensors) < 2:
        raise InvalidInput(f"anomaly detection needs at least 2 sensor columns, got {list(sensors)}")
    if len(train) < max(10, len(sensors) + 2):
        raise InvalidInput(f"training rows: {len(train)} rows; expected at least {max(10, len(sensors) + 2)}")
    slow = _slow_flags(train, params.slow_autocorr)
    t = _transform(train, slow, params.slow_lag_rows)
    mean, scale = t.mean(0), t.std(0)
    scale[scale == 0] = 1.0
    z = (t - mean) / scale
    d = len(sensors)
    coef = np.empty((d, d))
    for j in range(d):
        a = _design(z, j)
        coef[:, j] = np.linalg.solve(a.T @ a + params.ridge * np.eye(d), a.T @ z[:, j])
    r = _residuals(z, coef)
    resid_scale = r.std(0)
    resid_scale[resid_scale == 0] = 1.0
    peak = float(_smoothed(r / resid_scale, params.smooth_rows).max())
    threshold = max(peak, 1e-9) * params.threshold_factor
    return Detector(sensors, slow, mean, scale, coef, resid_scale, threshold, params)


def score_rows(detector: Detector, x: np.ndarray, watch: np.ndarray | None = None) -> Scores:
    """Score every row of ``x`` (rows x sensors, in time order, including any history before).

    ``watch`` (bool per row, optional) leaves rows out, e.g. while a machine is stopped: the trailing
    window skips them and they score 0."""
    x = _check(x, detector.sensors, "rows to score")
    t = _transform(x, detector.slow, detector.params.slow_lag_rows)
    z = (t - detector.mean) / detector.scale
    r = _residuals(z, detector.coef) / detector.resid_scale
    if watch is None:
        watch = np.ones(len(r), dtype=bool)
    contrib = np.zeros_like(r)
    contrib[watch] = _smoothed(r[watch], detector.params.smooth_rows) / detector.threshold
    score = contrib.max(1) if len(contrib) else np.zeros(0)
    return Scores(score, score > 1.0, contrib, detector.sensors)


def segment_starts(ts: pd.DatetimeIndex, gap_factor: float = 10.0) -> list[int]:
    """Row numbers where a new run of readings starts: after a gap over ``gap_factor`` × the median step."""
    if len(ts) < 3:
        return [0]
    steps = np.diff(ts.asi8)
    return [0, *(np.flatnonzero(steps > gap_factor * np.median(steps)) + 1).tolist()]


def score_segments(
    detector: Detector, x: np.ndarray, starts: list[int], watch: np.ndarray | None = None
) -> Scores:
    """Score separate runs of readings (e.g. the days a test bed ran) with one model: the slow-sensor
    changes and the smoothing start afresh at each run (``watch`` as in ``score_rows``)."""
    bounds = [(a, b) for a, b in zip(starts, [*starts[1:], len(x)]) if b > a]
    parts = [score_rows(detector, x[a:b], None if watch is None else watch[a:b]) for a, b in bounds]
    return Scores(
        np.concatenate([p.score for p in parts]),
        np.concatenate([p.anomaly for p in parts]),
        np.concatenate([p.contrib for p in parts]),
        detector.sensors,
    )


def compute_anomaly_scores(
    frame: pd.DataFrame,
    params: DetectorParams = DEFAULT_PARAMS,
    train_rows: int | None = None,
    source: str = "input",
) -> pd.DataFrame:
    """Fit on the first ``train_rows`` rows of ``frame`` (sensor columns, time order) and score them all.

    Returns one row per input row: ``row`` (0-based), ``score``, ``anomaly`` (0/1), ``top_sensors``
    (comma-separated, only where ``anomaly`` is 1).
    """
    n = params.train_rows if train_rows is None else train_rows
    if n > len(frame):
        raise InvalidInput(f"{source}: {len(frame)} rows, fewer than the {n} training rows (--train-rows)")
    sensors = tuple(str(c) for c in frame.columns)
    x = frame.to_numpy(dtype=float)
    try:
        scores = score_rows(fit_detector(x[:n], sensors, params), x)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.message}") from None
    k = params.top_sensors
    hints = [",".join(scores.top_sensors(i, k)) if a else "" for i, a in enumerate(scores.anomaly)]
    return pd.DataFrame(
        {
            "row": np.arange(len(frame)),
            "score": np.round(scores.score, 6),
            "anomaly": scores.anomaly.astype(int),
            "top_sensors": hints,
        }
    )
