"""The SKAB benchmark (Skoltech Anomaly Benchmark v0.9) with its published protocol.

For each labelled file the first 400 rows train the detector (assumed normal), the whole file is scored,
and F1, FAR and MAR on the ``anomaly`` label are computed over the concatenated decisions of all files
of a group and of all 34 files together. One set of hyperparameters for all files, tuned on ``valve1/``
only; ``valve2/`` and ``other/`` are held out. A Hotelling T² baseline (99th percentile of the training
T² as threshold, no smoothing) runs in the same pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from parkbrain.analytics.anomaly import DEFAULT_PARAMS, DetectorParams, fit_detector, score_rows
from parkbrain.analytics.anomaly_files import read_sensor_file
from parkbrain.errors import NotFound

GROUPS = ("valve1", "valve2", "other")
TUNED_ON = ("valve1",)
SELECTION_RULE = "highest valve1 F1 with valve1 FAR at most 10 %, fixed before the held-out groups were run"


@dataclass(frozen=True)
class Published:
    """A published leaderboard row (outlier detection, test-set evaluation)."""

    algorithm: str
    f1: float
    far_pct: float
    mar_pct: float


# Source: SKAB README, "Leaderboard" — outlier detection (github.com/waico/SKAB, commit b2c0d46, 2024-08-11);
# copied in ../shared/data/skab/README.md.
PUBLISHED = (
    Published("Conv-AE", 0.78, 13.55, 28.02),
    Published("MSET", 0.78, 39.73, 14.13),
    Published("T-squared+Q (PCA)", 0.76, 26.62, 24.92),
    Published("T-squared", 0.66, 19.21, 42.6),
)


@dataclass(frozen=True)
class Metrics:
    """Binary-detection figures over concatenated decisions."""

    f1: float
    far_pct: float
    mar_pct: float
    rows: int
    files: int


def compute_metrics(labels: np.ndarray, decisions: np.ndarray, files: int = 1) -> Metrics:
    """F1, false-alarm rate and missed-alarm rate (both in %) of 0/1 ``decisions`` against ``labels``."""
    y, p = np.asarray(labels).astype(bool), np.asarray(decisions).astype(bool)
    tp, fp = int((p & y).sum()), int((p & ~y).sum())
    fn, tn = int((~p & y).sum()), int((~p & ~y).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    far = 100 * fp / (fp + tn) if fp + tn else 0.0
    mar = 100 * fn / (fn + tp) if fn + tp else 0.0
    return Metrics(round(f1, 4), round(far, 2), round(mar, 2), len(y), files)


def detect_parkbrain(x: np.ndarray, params: DetectorParams = DEFAULT_PARAMS) -> np.ndarray:
    """ParkBrain's detector on one file: fit on the first rows, 0/1 for every row."""
    return score_rows(
        fit_detector(x[: params.train_rows], [str(i) for i in range(x.shape[1])], params), x
    ).anomaly


def detect_hotelling(x: np.ndarray, train_rows: int = 400, quantile: float = 0.99) -> np.ndarray:
    """Baseline: Hotelling T² of the standardised sensors, threshold at a quantile of the training T²."""
    train = x[:train_rows]
    mean, cov = train.mean(0), np.cov(train, rowvar=False)
    inv = np.linalg.pinv(cov)
    d = x - mean
    t2 = np.einsum("ij,jk,ik->i", d, inv, d)
    return t2 > np.quantile(t2[:train_rows], quantile)


DETECTORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "parkbrain": detect_parkbrain,
    "hotelling_t2": detect_hotelling,
}


def _files(data_dir: Path, group: str) -> list[Path]:
    files = sorted((data_dir / group).glob("*.csv"), key=lambda p: (len(p.stem), p.stem))
    if not files:
        raise NotFound(
            f"{data_dir / group}: no SKAB CSV files; pass --data DIR pointing at SKAB's data folder"
        )
    return files


def compute_skab(data_dir: str | Path, groups: tuple[str, ...] = GROUPS) -> dict[str, dict[str, Metrics]]:
    """Every detector's metrics per group and in total: ``{detector: {group|'total': Metrics}}``."""
    data_dir = Path(data_dir)
    loaded = {g: [read_sensor_file(p) for p in _files(data_dir, g)] for g in groups}
    out: dict[str, dict[str, Metrics]] = {}
    for name, detect in DETECTORS.items():
        ys, ps, per = [], [], {}
        for group, files in loaded.items():
            y = [f.labels["anomaly"].to_numpy() for f in files]
            p = [detect(f.sensors.to_numpy(dtype=float)) for f in files]
            per[group] = compute_metrics(np.concatenate(y), np.concatenate(p), len(files))
            ys += y
            ps += p
        per["total"] = compute_metrics(
            np.concatenate(ys), np.concatenate(ps), sum(len(f) for f in loaded.values())
        )
        out[name] = per
    return out


def skab_report(results: dict[str, dict[str, Metrics]]) -> dict:
    """JSON-ready report: measured figures, the published leaderboard and the target."""
    return {
        "protocol": "first 400 rows of each file train; whole file scored; F1/FAR/MAR on `anomaly` "
        "over concatenated decisions",
        "tuned_on": list(TUNED_ON),
        "selection_rule": SELECTION_RULE,
        "held_out": [g for g in GROUPS if g not in TUNED_ON],
        "params": asdict(DEFAULT_PARAMS),
        "measured": {d: {g: asdict(m) for g, m in per.items()} for d, per in results.items()},
        "published": [asdict(p) for p in PUBLISHED],
        "target": {"f1_above": 0.80, "far_pct_at_most": 15.0},
    }


def skab_lines(results: dict[str, dict[str, Metrics]]) -> list[str]:
    """A plain-text table of the same."""
    lines = [f"{'detector':<22}{'group':<8}{'files':>6}{'F1':>8}{'FAR %':>8}{'MAR %':>8}"]
    for name, per in results.items():
        for group, m in per.items():
            mark = " (tuning group)" if group in TUNED_ON else (" (held out)" if group != "total" else "")
            lines.append(
                f"{name:<22}{group:<8}{m.files:>6}{m.f1:>8.3f}{m.far_pct:>8.2f}{m.mar_pct:>8.2f}{mark}"
            )
    lines.append("published (SKAB leaderboard, all 34 files):")
    lines += [
        f"{p.algorithm:<22}{'total':<8}{34:>6}{p.f1:>8.3f}{p.far_pct:>8.2f}{p.mar_pct:>8.2f}"
        for p in PUBLISHED
    ]
    lines.append("target: F1 > 0.80 with FAR <= 15 %")
    lines.append(f"parameters chosen by: {SELECTION_RULE}")
    return lines
