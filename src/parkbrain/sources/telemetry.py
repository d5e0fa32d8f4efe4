"""Telemetry payloads in the ThingsBoard shape IoT people already know.

One message is ``{"ts": <epoch ms or ISO 8601>, "values": {"<point_id or quantity>": <number>, …}}``
or a JSON array of such objects. A key is a point id of the device, or the ``quantity`` of one of
its points (``electric_energy`` …). Errors name the message index and the field.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from parkbrain.errors import InvalidInput
from parkbrain.model.timeutil import parse_time

MAX_MESSAGES = 10_000
#: Epoch values above this are milliseconds (year 2286 in seconds).
_MS_THRESHOLD = 10_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_ts(value: Any, where: str) -> datetime:
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{where}.ts: expected epoch milliseconds or ISO 8601; got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"{where}.ts: expected epoch milliseconds; got {value!r}")
        seconds = value / 1000 if value > _MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput(f"{where}.ts: {value!r} is out of range") from None
    if isinstance(value, str):
        try:
            return parse_time(value, f"{where}.ts")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    raise InvalidInput(f"{where}.ts: expected epoch milliseconds or ISO 8601; got {type(value).__name__}")


def _epoch_us(ts: datetime) -> int:
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _all_finite_numbers(numbers: list[Any]) -> bool:
    """Every value a finite int or float (type(), not isinstance(): a bool is an int to isinstance,
    and is refused here); all-float lists, the common case, take the fast path."""
    kinds = set(map(type, numbers))
    if kinds <= {float}:
        return all(map(math.isfinite, numbers))
    return kinds <= {float, int} and all(map(_finite, numbers))


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any double
        return False


def point_keys(points: list[dict[str, Any]]) -> dict[str, str]:
    """Payload key → point_id for a device: its point ids, and the quantity of each of its points."""
    keys: dict[str, str] = {}
    for p in points:
        keys.setdefault(p["quantity"], p["point_id"])
    keys.update({p["point_id"]: p["point_id"] for p in points})
    return keys


def parse_payload(payload: Any, points: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
    """Rows (point_id, ts, value) from a payload for ``device_id`` whose points are ``points``."""
    ids, times_us, values = parse_payload_columns(payload, point_keys(points), device_id)
    return [
        {"point_id": i, "ts": _EPOCH + timedelta(microseconds=t), "value": float(v)}
        for i, t, v in zip(ids, times_us, values)
    ]


def parse_payload_columns(
    payload: Any, keys: dict[str, str], device_id: str
) -> tuple[list[str], list[int], list[float]]:
    """The readings of a payload as three columns (point ids, times in epoch microseconds, values);
    ``keys`` from ``point_keys``. All or nothing."""
    messages = payload if isinstance(payload, list) else [payload]
    if not messages:
        raise InvalidInput("payload: an empty array; expected at least one {ts, values} object")
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"payload: {len(messages)} messages; at most {MAX_MESSAGES} in one request")
    ids: list[str] = []
    times: list[int] = []
    values: list[float] = []
    for index, message in enumerate(messages):
        where = f"payload[{index}]" if isinstance(payload, list) else "payload"
        if not isinstance(message, dict):
            raise InvalidInput(f"{where}: expected an object with ts and values")
        if "ts" not in message:
            raise InvalidInput(f"{where}.ts: missing")
        ts = _epoch_us(parse_ts(message["ts"], where))
        readings = message.get("values")
        if not isinstance(readings, dict) or not readings:
            raise InvalidInput(f"{where}.values: expected an object of point id or quantity → number")
        names, numbers = list(readings), list(readings.values())
        resolved = [keys.get(k) for k in names]
        if None in resolved:
            key = names[resolved.index(None)]
            known = ", ".join(sorted(k for k, v in keys.items() if k != v)) or "none"
            raise InvalidInput(
                f"{where}.values.{key}: device {device_id} has no such point or quantity (it has: {known})"
            )
        if not _all_finite_numbers(numbers):
            key, value = next(
                (k, v) for k, v in zip(names, numbers) if type(v) not in (float, int) or not _finite(v)
            )
            raise InvalidInput(f"{where}.values.{key}: expected a finite number; got {value!r}")
        ids += resolved
        times += [ts] * len(numbers)
        values += numbers
    return ids, times, values
