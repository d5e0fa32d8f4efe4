"""Time-of-use (分时) split of electricity into peak / flat / valley, with schedules declared as data.

A schedule gives each hour of the Asia/Shanghai day one period. The default is a **Guangxi-style
schedule to configure**, not the tariff in force: 广西 publishes its 分时电价 periods (and 尖峰 hours)
in notices of the 自治区发展改革委 that change; set the park's own with ``--tou`` /
``TouSchedule.parse("peak=16-24;flat=8-16;valley=0-8")``. Hours are whole: the split reads the hourly
rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parkbrain.analytics.energy import Consumption, Selection, compute_consumption
from parkbrain.errors import InvalidInput
from parkbrain.store.base import Store

PERIOD_NAMES = {"sharp": "尖峰", "peak": "高峰", "flat": "平段", "valley": "低谷"}


@dataclass(frozen=True)
class TouPeriod:
    period: str  # PERIOD_NAMES
    start_hour: int  # inclusive, 0–23
    end_hour: int  # exclusive, 1–24


@dataclass(frozen=True)
class TouSchedule:
    name: str
    periods: tuple[TouPeriod, ...]
    source: str

    def __post_init__(self) -> None:
        hours = [h for p in self.periods for h in range(p.start_hour, p.end_hour)]
        for p in self.periods:
            if p.period not in PERIOD_NAMES or not 0 <= p.start_hour < p.end_hour <= 24:
                raise InvalidInput(
                    f"tou: {p.period}={p.start_hour}-{p.end_hour}: expected one of "
                    f"{', '.join(PERIOD_NAMES)} and hours 0–24 with start < end"
                )
        if sorted(hours) != list(range(24)):
            missing = sorted(set(range(24)) - set(hours))
            twice = sorted({h for h in hours if hours.count(h) > 1})
            raise InvalidInput(
                f"tou: every hour of the day needs exactly one period; missing {missing}, twice {twice}"
            )

    def period_of(self, hour: int) -> str:
        return next(p.period for p in self.periods if p.start_hour <= hour < p.end_hour)

    @classmethod
    def parse(cls, text: str, name: str = "custom") -> TouSchedule:
        """``peak=16-24;flat=8-16;valley=0-8`` (several ranges of one period with commas: ``peak=8-11,18-23``)."""
        periods = []
        for part in filter(None, (p.strip() for p in text.split(";"))):
            period, _, ranges = part.partition("=")
            for rng in ranges.split(","):
                lo, _, hi = rng.partition("-")
                try:
                    periods.append(TouPeriod(period.strip(), int(lo), int(hi)))
                except ValueError:
                    raise InvalidInput(
                        f"tou: {part!r}: expected PERIOD=START-END hours, e.g. peak=16-24"
                    ) from None
        return cls(name, tuple(periods), "user-defined")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "periods": [
                {
                    "period": p.period,
                    "name_zh": PERIOD_NAMES[p.period],
                    "hours": f"{p.start_hour:02d}:00–{p.end_hour:02d}:00",
                }
                for p in self.periods
            ],
        }


GUANGXI_STYLE = TouSchedule(
    "guangxi-style-default",
    (TouPeriod("valley", 0, 8), TouPeriod("flat", 8, 16), TouPeriod("peak", 16, 24)),
    "默认示例，须按现行广西分时电价文件配置 / a Guangxi-style default to configure: not the tariff in force",
)


def compute_tou(
    store: Store, selection: Selection, start: datetime, end: datetime, schedule: TouSchedule = GUANGXI_STYLE
) -> dict[str, Any]:
    """Electricity per TOU period: kWh and share, from the hourly rollups."""
    usage: Consumption = compute_consumption(store, selection, start, end, "total", (), resolution="1h")
    kwh: dict[str, float] = {p.period: 0.0 for p in schedule.periods}
    for row in usage.rows:
        if row["carrier"] == "electricity":
            kwh[schedule.period_of(row["hour"])] += row["amount"] or 0.0
    total = sum(kwh.values())
    rows = [
        {
            "period": period,
            "name_zh": PERIOD_NAMES[period],
            "kwh": value,
            "share": value / total if total else None,
        }
        for period, value in kwh.items()
    ]
    return {"schedule": schedule.as_dict(), "rows": rows, "kwh": total}
