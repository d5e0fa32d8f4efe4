"""Time conventions: stored in UTC, shown in Asia/Shanghai (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARK_TZ = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


#: The years a time given by a user may name (beyond them, window arithmetic leaves Python's range).
MIN_YEAR, MAX_YEAR = 1900, 2999


def parse_time(text: str, field: str = "time") -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are Asia/Shanghai. Returns UTC.

    Raises ``ValueError`` naming ``field`` and the expected form.
    """
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{field}: {text!r} is not a date or time; expected ISO 8601 such as "
            "2026-11-24 or 2026-11-24T08:00:00+08:00"
        ) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"{field}: {text!r} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARK_TZ)
    return value.astimezone(timezone.utc)


def local_today() -> date:
    return datetime.now(PARK_TZ).date()
