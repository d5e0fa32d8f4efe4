"""The SKAB benchmark (Skoltech Anomaly Benchmark v0.9) with its published protocol.

For each labelled file the first 400 rows train the detector (assumed normal), the whole file is scored,
and F1, FAR and MAR on the ``anomaly`` label are computed over the concatenated decisions of all files
of a group and of all 34 files together. One set of hyperparameters for all files, tuned on ``valve1/``
only; ``valve2/`` and ``other/`` are held out. A Hotelling T² baseline (99th percentile of the training
T² as threshold, no smoothing) runs in the same pass. The same decisions are also scored as changepoint
detection (the rows where a decision changes) with the NAB metric (``analytics.anomaly_nab``) against
the ``changepoint`` label, beside the published changepoint leaderboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from parkbrain.analytics.anomaly import DEFAULT_PARAMS, DetectorParams, fit_detector, score_rows
from parkbrain.analytics.anomaly_files import SensorFile, read_sensor_file
from parkbrain.analytics.anomaly_nab import (
    NabCounts,
    NabScore,
    changepoints,
    compute_nab_counts,
    compute_nab_score,
)
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


# Source: SKAB README, "Leaderboard" — changepoint detection, NAB scores with a 60 s window to the right
# of each true changepoint (same commit); copied in ../shared/data/skab/README.md.
PUBLISHED_NAB = (
    ("MSCRED", 32.42, 16.53, 40.28),
    ("Isolation forest", 26.16, 19.5, 30.82),
    ("T-squared+Q (PCA)", 25.35, 14.51, 31.33),
    ("Conv-AE", 23.61, 21.54, 27.55),
    ("T-squared", 19.54, 10.2, 24.31),
    ("MSET", 13.84, 10.22, 17.37),
)


@dataclass(frozen=True)
class Metrics:
    """Binary-detection figures over concatenated decisions, and the NAB changepoint scores."""

    f1: float
    far_pct: float
    mar_pct: float
    rows: int
    files: int
    nab: NabScore | None = None


def compute_metrics(
    labels: np.ndarray, decisions: np.ndarray, files: int = 1, changepoint_counts: NabCounts | None = None
) -> Metrics:
    """F1, false-alarm rate and missed-alarm rate (both in %) of 0/1 ``decisions`` against ``labels``
    (and the NAB scores of ``changepoint_counts`` where given)."""
    y, p = np.asarray(labels).astype(bool), np.asarray(decisions).astype(bool)
    tp, fp = int((p & y).sum()), int((p & ~y).sum())
    fn, tn = int((~p & y).sum()), int((~p & ~y).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    far = 100 * fp / (fp + tn) if fp + tn else 0.0
    mar = 100 * fn / (fn + tp) if fn + tp else 0.0
    nab = compute_nab_score(changepoint_counts) if changepoint_counts and changepoint_counts.windows else None
    return Metrics(round(f1, 4), round(far, 2), round(mar, 2), len(y), files, nab)


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
        ys, ps, cps, per = [], [], NabCounts(0, (), 0), {}
        for group, files in loaded.items():
            y = [f.labels["anomaly"].to_numpy() for f in files]
            p = [detect(f.sensors.to_numpy(dtype=float)) for f in files]
            cp = sum((_nab_counts(f, d) for f, d in zip(files, p)), NabCounts(0, (), 0))
            per[group] = compute_metrics(np.concatenate(y), np.concatenate(p), len(files), cp)
            ys, ps, cps = ys + y, ps + p, cps + cp
        files_n = sum(len(f) for f in loaded.values())
        per["total"] = compute_metrics(np.concatenate(ys), np.concatenate(ps), files_n, cps)
        out[name] = per
    return out


def _nab_counts(file: SensorFile, decisions: np.ndarray) -> NabCounts:
    if file.times is None or "changepoint" not in file.labels:
        return NabCounts(0, (), 0)
    return compute_nab_counts(file.times, file.labels["changepoint"].to_numpy(), changepoints(decisions))


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
        "published_changepoints_nab": [
            {"algorithm": a, "standard": s, "low_fp": fp, "low_fn": fn} for a, s, fp, fn in PUBLISHED_NAB
        ],
        "changepoints": "rows where a detector's 0/1 decision changes, NAB-scored against `changepoint` "
        "with a 60 s window to the right (SKAB core/metrics.py rules)",
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
    lines += _nab_lines(results)
    return lines


def _nab_lines(results: dict[str, dict[str, Metrics]]) -> list[str]:
    lines = [
        "changepoints (where a decision changes), NAB with a 60 s window to the right:",
        f"{'detector':<22}{'group':<8}{'standard':>10}{'LowFP':>8}{'LowFN':>8}{'missed':>8}{'FPs':>6}",
    ]
    for name, per in results.items():
        for group, m in per.items():
            if m.nab is not None:
                n = m.nab
                lines.append(
                    f"{name:<22}{group:<8}{n.standard:>10.2f}{n.low_fp:>8.2f}{n.low_fn:>8.2f}"
                    f"{n.missed:>8}{n.false_positives:>6}"
                )
    lines.append("published (SKAB changepoint leaderboard, all 34 files):")
    lines += [f"{a:<22}{'total':<8}{s:>10.2f}{fp:>8.2f}{fn:>8.2f}" for a, s, fp, fn in PUBLISHED_NAB]
    return lines
