"""Equipment anomaly detection on the real SKAB files, read in place (GPL: never copied here)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from parkbrain.analytics.anomaly import DetectorParams, compute_anomaly_scores, fit_detector, score_rows
from parkbrain.analytics.anomaly_files import read_sensor_file
from parkbrain.analytics.anomaly_nab import changepoints, compute_nab_counts, compute_nab_score
from parkbrain.analytics.anomaly_skab import PUBLISHED, PUBLISHED_NAB, compute_metrics, compute_skab
from parkbrain.cli import cli
from parkbrain.errors import BadFile, InvalidInput
from tests.conftest import SHARED_DATA

SKAB = SHARED_DATA / "skab"
pytestmark = pytest.mark.skipif(not SKAB.is_dir(), reason="SKAB not in ../shared/data")


def test_valve1_f1_and_far_beat_the_published_best_and_the_t2_baseline():
    results = compute_skab(SKAB, ("valve1",))
    ours, t2 = results["parkbrain"]["valve1"], results["hotelling_t2"]["valve1"]
    assert ours.files == 16 and ours.rows == t2.rows > 17_000
    # measured 0.858 / 6.98 % / 15.06 % on valve1 (the group the parameters were tuned on)
    assert ours.f1 >= 0.85 and ours.far_pct <= 8.0
    assert ours.f1 > t2.f1 + 0.05
    assert ours.f1 > max(p.f1 for p in PUBLISHED)


def test_all_34_files_reach_the_target_with_the_held_out_groups_reported():
    results = compute_skab(SKAB)
    ours, t2 = results["parkbrain"], results["hotelling_t2"]
    assert [ours[g].files for g in ("valve1", "valve2", "other", "total")] == [16, 4, 14, 34]
    # measured once, after tuning on valve1 only: total 0.809 / FAR 12.04 % / MAR 16.85 %
    # (valve2 0.812 / 6.12 % / 23.93 %, other 0.755 / 19.95 % / 16.96 %)
    assert ours["total"].f1 > 0.80 and ours["total"].far_pct <= 15.0
    assert ours["total"].f1 > max(p.f1 for p in PUBLISHED) and ours["total"].f1 > t2["total"].f1
    assert ours["total"].far_pct < t2["total"].far_pct


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([1, 0, 1, 1, 0, 0])
    m = compute_metrics(y, p)
    assert (m.f1, m.far_pct, m.mar_pct) == (round(2 * 2 / (2 * 2 + 1 + 1), 4), 33.33, 33.33)


def test_published_leaderboard_is_the_skab_readme():
    conv = next(p for p in PUBLISHED if p.algorithm == "Conv-AE")
    mset = next(p for p in PUBLISHED if p.algorithm == "MSET")
    assert (conv.f1, conv.far_pct, conv.mar_pct) == (0.78, 13.55, 28.02)
    assert (mset.f1, mset.far_pct) == (0.78, 39.73)


def test_detection_is_deterministic_and_names_the_sensors_of_a_fault():
    frame = read_sensor_file(SKAB / "valve1" / "1.csv").sensors
    a, b = compute_anomaly_scores(frame), compute_anomaly_scores(frame)
    assert a.equals(b)
    assert len(a) == len(frame) and set(a["anomaly"]) == {0, 1}
    flagged = a[a["anomaly"] == 1]
    assert (flagged["score"] > 1).all() and (flagged["top_sensors"] != "").all()
    # closing the inlet valve: the flow rate leads the hints inside the labelled fault
    labels = read_sensor_file(SKAB / "valve1" / "1.csv").labels["anomaly"].to_numpy()
    inside = a[(a["anomaly"] == 1) & (labels == 1)]["top_sensors"].str.split(",").str[0]
    assert inside.value_counts().index[0] == "Volume Flow RateRMS"


def test_live_scoring_of_a_prefix_matches_the_stored_run():
    """Causal: scoring rows as they arrive gives the same scores as scoring the whole file."""
    x = read_sensor_file(SKAB / "other" / "5.csv").sensors
    det = fit_detector(x.to_numpy()[:400], list(x.columns))
    whole = score_rows(det, x.to_numpy()).score
    prefix = score_rows(det, x.to_numpy()[:700]).score
    assert np.allclose(whole[:700], prefix)


def test_rows_not_watched_score_zero_and_the_window_skips_them():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 3))
    x[:, 1] += 2 * x[:, 0]
    det = fit_detector(x[:200], ["a", "b", "c"])
    x[250:300] = [0.0, 40.0, 0.0]  # a stop: b far from what a says
    watch = np.ones(400, dtype=bool)
    watch[250:300] = False
    watched, everything = score_rows(det, x, watch), score_rows(det, x)
    assert everything.anomaly[275:300].all() and not watched.anomaly.any()
    assert (watched.score[250:300] == 0).all()
    # after the stop the window holds the rows before it, not the stop
    assert np.allclose(watched.score[300:], score_rows(det, np.r_[x[:250], x[300:]]).score[250:])


def test_fit_refuses_too_few_rows_or_sensors():
    with pytest.raises(InvalidInput, match="at least 2 sensor"):
        fit_detector(np.zeros((50, 1)), ["a"])
    with pytest.raises(InvalidInput, match="training rows"):
        fit_detector(np.ones((5, 3)), ["a", "b", "c"], DetectorParams())


def test_detect_cli_prints_one_line_per_row_with_the_header():
    files = [str(SKAB / "valve1" / "0.csv"), str(SKAB / "other" / "1.csv")]
    result = CliRunner().invoke(cli, ["detect", *files])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["file", "row", "score", "anomaly"]
    n = sum(len(read_sensor_file(f).sensors) for f in files)
    assert len(rows) == n + 1
    assert {r[3] for r in rows[1:]} == {"0", "1"}
    assert rows[1][:2] == [files[0], "0"] and rows[-1][0] == files[1]


def test_detect_cli_json_and_comma_separated_files(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 3))
    x[250:, 0] += 8.0
    path = tmp_path / "pump.csv"
    lines = ["time,a,b,c,anomaly"] + [
        f"2026-01-01 00:{i // 60:02d}:{i % 60:02d},{r[0]},{r[1]},{r[2]},0" for i, r in enumerate(x)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["detect", str(path), "--train-rows", "200", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 300 and rows[0]["file"] == str(path)
    # the trailing median of 45 rows rises once half its window is off: 23 rows after the shift at 250
    assert all(r["anomaly"] == 0 for r in rows[:250]) and all(r["anomaly"] == 1 for r in rows[273:])
    assert rows[273]["top_sensors"].split(",")[0] == "a"


def test_bad_files_name_the_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("datetime;a;b\n2026-01-01 00:00:00;1;2\n2026-01-01 00:00:01;1;oops\n", encoding="utf-8")
    with pytest.raises(BadFile, match=r"bad.csv, line 3, field 'b'"):
        read_sensor_file(path)
    result = CliRunner().invoke(cli, ["detect", str(path)])
    assert result.exit_code == 1 and "line 3" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["detect", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "missing.csv" in result.output


def test_nab_null_perfect_and_a_hand_computed_window():
    times = pd.date_range("2026-01-01", periods=600, freq="1s")
    true_cp = np.zeros(600, dtype=int)
    true_cp[[100, 400]] = 1
    null = compute_nab_score(compute_nab_counts(times, true_cp, np.zeros(600)))
    perfect = compute_nab_score(compute_nab_counts(times, true_cp, true_cp))
    assert (null.standard, null.low_fp, null.low_fn, null.missed) == (0.0, 0.0, 0.0, 2)
    assert (perfect.standard, perfect.low_fp, perfect.low_fn, perfect.false_positives) == (100.0,) * 3 + (0,)
    late = np.zeros(600, dtype=int)
    late[[130, 300]] = 1  # halfway through the first window; one false positive; the second CP missed
    score = compute_nab_score(compute_nab_counts(times, true_cp, late))
    # standard: tp halfway ≈ (1 + -0.11) / 2, fp -0.11, fn -1; null -2, perfect 2
    expected = 100 * ((1 - 0.11) / 2 - 0.11 - 1 + 2) / 4
    assert abs(score.standard - expected) < 0.2 and (score.missed, score.false_positives) == (1, 1)


def test_changepoints_of_decisions_are_both_edges():
    assert changepoints(np.array([0, 0, 1, 1, 0, 1])).tolist() == [0, 0, 1, 0, 1, 1]


def test_skab_changepoints_scored_with_nab_beside_the_published_leaderboard():
    results = compute_skab(SKAB)
    nab = results["parkbrain"]["total"].nab
    # measured: standard 27.53, LowFP 22.39, LowFN 32.57 (74 of 127 changepoints missed, 95 FPs);
    # the parameters were tuned for F1 on valve1, never on changepoints
    assert nab is not None and nab.standard > 25 and nab.low_fp > 21.54  # Conv-AE's, the best published
    conv = next(p for p in PUBLISHED_NAB if p[0] == "Conv-AE")
    assert conv[1:] == (23.61, 21.54, 27.55) and nab.standard > conv[1]
