"""Read sensor CSV files laid out like SKAB's: ``;`` or ``,`` separated, a time column, sensor columns,
label columns (``anomaly``, ``changepoint``) kept apart from the sensors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from parkbrain.errors import BadFile

LABEL_COLUMNS = ("anomaly", "changepoint")
TIME_COLUMNS = ("datetime", "time", "timestamp", "ts", "date", "时间")


@dataclass(frozen=True)
class SensorFile:
    """One file's sensors (numeric, time order), its labels where it has them, and the time of each row
    (None where the time column does not read as dates and times)."""

    path: str
    sensors: pd.DataFrame
    labels: pd.DataFrame
    times: pd.DatetimeIndex | None = None


def _separator(path: Path) -> str:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = fh.readline()
    except FileNotFoundError:
        raise BadFile(str(path), "no such file") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise BadFile(str(path), f"cannot read it as text ({exc.__class__.__name__})") from None
    if not header.strip():
        raise BadFile(
            str(path), "empty file", line=1, expected="a header of a time column and sensor columns"
        )
    return ";" if header.count(";") >= header.count(",") else ","


def _bad_cell(path: Path, column: pd.Series, name: str) -> BadFile:
    numbers = pd.to_numeric(column, errors="coerce")
    bad = int(np.flatnonzero(numbers.isna() & column.notna())[0])
    return BadFile(
        str(path),
        f"value {column.iloc[bad]!r} is not a number",
        line=bad + 2,
        field=name,
        expected="a number",
    )


def read_sensor_file(path: str | Path) -> SensorFile:
    """Read one file; errors name the file, line and column."""
    path = Path(path)
    sep = _separator(path)
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise BadFile(str(path), f"not a {sep!r}-separated table: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    time_col = next((lower[t] for t in TIME_COLUMNS if t in lower), frame.columns[0])
    labels = [c for c in frame.columns if c.lower() in LABEL_COLUMNS]
    sensor_cols = [c for c in frame.columns if c != time_col and c not in labels]
    if len(sensor_cols) < 2:
        raise BadFile(str(path), f"{len(sensor_cols)} sensor column(s)", line=1, expected="at least 2")
    sensors = pd.DataFrame(index=frame.index)
    for name in sensor_cols:
        values = pd.to_numeric(frame[name], errors="coerce")
        if (values.isna() & frame[name].notna()).any():
            raise _bad_cell(path, frame[name], name)
        if values.isna().all():
            raise BadFile(str(path), "no values", field=name, expected="numbers")
        sensors[name] = values.ffill().bfill()
    label_frame = frame[labels].apply(pd.to_numeric, errors="coerce").fillna(0).astype(int)
    times = pd.DatetimeIndex(pd.to_datetime(frame[time_col], errors="coerce", format="mixed"))
    return SensorFile(str(path), sensors, label_frame, None if times.isna().any() else times)
