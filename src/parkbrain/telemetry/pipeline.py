"""The live telemetry pipeline: receive → spool (durable, then acknowledge) → one batched writer.

    MQTT / other receivers ──submit()──▶ queue (bounded: a full queue blocks the receiver, which
                                           stops reading its socket — backpressure to the broker)
    spool thread:  drains the queue in batches, appends them to the spool, fsync, then acknowledges
    writer thread: seals a spool segment every ``apply_s``, parses its messages, stores the valid
                   readings (idempotent on point and time, rollups refreshed incrementally) and the
                   invalid messages as dead letters in one transaction, runs the alert rules, then
                   deletes the segment.

At-least-once delivery from the broker plus idempotent storage makes every acknowledged reading
stored exactly once in effect, through crashes: segments left by a crash are applied at start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from parkbrain.errors import InvalidInput
from parkbrain.sources.telemetry import parse_payload_columns, point_keys
from parkbrain.telemetry.spool import Record, Spool, read_segment

log = logging.getLogger("parkbrain.telemetry")
TOPIC_PREFIX = "parkbrain"
#: Characters of a bad payload kept in its dead letter.
DEAD_PAYLOAD_CHARS = 4000
#: How often the writer looks for points that went silent (stale-data alert rules).
STALE_CHECK_S = 60.0
Ack = Callable[[], None]


@dataclass
class Stats:
    received: int = 0
    acknowledged: int = 0
    messages_applied: int = 0
    readings_stored: int = 0
    readings_duplicate: int = 0
    dead_letters: int = 0
    batches: int = 0
    alerts: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Parsed:
    """The readings of a batch as columns, and the dead letters of its bad messages."""

    point_ids: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)

    @property
    def readings(self) -> pa.Table:
        return pa.table(
            {
                "point_id": pa.array(self.point_ids, pa.string()),
                "ts": pa.array(self.times, pa.timestamp("us", tz="UTC")),
                "value": pa.array(self.values, pa.float64()),
            }
        )


def parse_topic(topic: str) -> tuple[str, str] | None:
    """(park_id, device_id) of ``parkbrain/{park_id}/{device_id}/telemetry``, else None."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == TOPIC_PREFIX and parts[3] == "telemetry" and parts[1] and parts[2]:
        return parts[1], parts[2]
    return None


class TelemetryPipeline:
    """Durable, batched ingestion of telemetry messages into a store (one per server process)."""

    def __init__(
        self,
        store: Any,
        spool_dir: str | Path,
        *,
        alerts: Any | None = None,
        apply_s: float = 0.2,
        queue_max: int = 20_000,
        on_applied: Callable[[list[Record], float], None] | None = None,
    ) -> None:
        self.store = store
        self.spool = Spool(spool_dir)
        self.alerts = alerts
        self.apply_s = apply_s
        self.on_applied = on_applied
        self.stats = Stats()
        self._queue: queue.Queue[tuple[str, bytes, Ack | None]] = queue.Queue(maxsize=queue_max)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._devices: dict[str, tuple[str, dict[str, str]] | None] = {}

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Apply what a previous run left in the spool, then start the spool and writer threads."""
        self._load_devices()
        self.apply_pending()
        for name, target in (("spool", self._spool_loop), ("writer", self._write_loop)):
            thread = threading.Thread(target=target, name=f"parkbrain-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop after spooling and applying everything received (a clean shutdown loses nothing)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._spool_batch(block=False)  # anything still queued
        self.spool.seal()
        self.apply_pending()

    def submit(self, topic: str, payload: bytes, ack: Ack | None = None) -> None:
        """Hand over one message; ``ack`` is called once it is durable. Blocks while the queue is full."""
        self.stats.received += 1
        self._queue.put((topic, payload, ack))

    # -- spool thread ----------------------------------------------------------------------------

    def _spool_loop(self) -> None:
        while not self._stop.is_set():
            self._spool_batch(block=True)

    def _spool_batch(self, block: bool, most: int = 5000) -> None:
        batch: list[tuple[str, bytes, Ack | None]] = []
        try:
            batch.append(self._queue.get(timeout=0.05) if block else self._queue.get_nowait())
            while len(batch) < most:
                batch.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        if not batch:
            return
        self.spool.append([(topic, payload) for topic, payload, _ in batch])
        for _, _, ack in batch:
            if ack is not None:
                ack()
        self.stats.acknowledged += len(batch)

    # -- writer thread ---------------------------------------------------------------------------

    def _write_loop(self) -> None:
        next_stale = time.monotonic() + STALE_CHECK_S
        while not self._stop.wait(self.apply_s):
            try:
                self.spool.seal()
                self.apply_pending()
                if self.alerts is not None and time.monotonic() >= next_stale:
                    next_stale = time.monotonic() + STALE_CHECK_S
                    self.stats.alerts += len(self.alerts.check_stale(datetime.now(timezone.utc)) or [])
            except Exception as exc:  # the writer must not die: log, keep the segment, retry
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("telemetry writer failed; the segment stays in the spool and is retried")

    def apply_pending(self) -> int:
        """Apply every sealed segment, oldest first; returns the number of messages applied."""
        applied = 0
        for path in self.spool.sealed():
            applied += self.apply_segment(path)
        return applied

    def apply_segment(self, path: Path) -> int:
        records = list(read_segment(path))
        parsed = self.parse(records)
        readings = parsed.readings
        with self.store.transaction():
            result = self.store.write_readings(readings) if readings.num_rows else None
            if parsed.dead:
                self.store.write("dead_letters", parsed.dead, mode="upsert")
        committed = time.monotonic()
        if self.alerts is not None and readings.num_rows:
            self.stats.alerts += len(self.alerts.on_readings(readings) or [])
        path.unlink()
        self._count(records, parsed, result)
        if self.on_applied is not None:
            self.on_applied(records, committed)
        return len(records)

    def _count(self, records: list[Record], parsed: Parsed, result: Any) -> None:
        self.stats.batches += 1
        self.stats.messages_applied += len(records)
        self.stats.dead_letters += len(parsed.dead)
        if result is not None:
            self.stats.readings_stored += result.inserted
            self.stats.readings_duplicate += result.duplicates

    # -- parsing ---------------------------------------------------------------------------------

    def parse(self, records: list[Record]) -> Parsed:
        """Readings of the valid messages, dead letters for the others (never an exception)."""
        parsed = Parsed()
        received = datetime.now(timezone.utc)
        for record in records:
            try:
                ids, times, values = self._readings_of(record)
            except InvalidInput as exc:
                parsed.dead.append(_dead_letter(record, exc.message, received))
                continue
            except Exception as exc:  # a message must never block the spool (e.g. JSON nested too deep)
                parsed.dead.append(
                    _dead_letter(record, f"unreadable message ({type(exc).__name__})", received)
                )
                continue
            parsed.point_ids += ids
            parsed.times += times
            parsed.values += values
        return parsed

    def _readings_of(self, record: Record) -> tuple[list[str], list[datetime], list[float]]:
        where = parse_topic(record.topic)
        if where is None:
            raise InvalidInput(
                f"topic {record.topic!r}: expected {TOPIC_PREFIX}/{{park_id}}/{{device_id}}/telemetry"
            )
        park_id, device_id = where
        device = self._device(device_id)
        if device is None or device[0] != park_id:
            raise InvalidInput(f"topic {record.topic!r}: park {park_id} has no device {device_id!r}")
        try:
            payload = json.loads(record.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"payload: not JSON ({exc})") from None
        return parse_payload_columns(payload, device[1], device_id)

    def _load_devices(self) -> None:
        """Every device's park and points in one query (a device added later is looked up on arrival)."""
        rows = self.store.query_rows(
            "SELECT d.device_id, d.park_id, p.point_id, p.quantity FROM devices d JOIN points p USING (device_id)"
        )
        grouped: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        for row in rows:
            grouped.setdefault(row["device_id"], (row["park_id"], []))[1].append(row)
        self._devices = {d: (park, point_keys(points)) for d, (park, points) in grouped.items()}

    def _device(self, device_id: str) -> tuple[str, dict[str, str]] | None:
        """(park_id, payload key → point_id) of a device, cached; an unknown one is looked up each time."""
        cached = self._devices.get(device_id)
        if cached is not None:
            return cached
        rows = self.store.query_rows("SELECT park_id FROM devices WHERE device_id = ?", [device_id])
        if not rows:
            return None
        points = self.store.query_rows(
            "SELECT point_id, quantity FROM points WHERE device_id = ?", [device_id]
        )
        self._devices[device_id] = (rows[0]["park_id"], point_keys(points))
        return self._devices[device_id]


def _dead_letter(record: Record, reason: str, received: datetime) -> dict[str, Any]:
    where = parse_topic(record.topic)
    return {
        "dead_letter_id": hashlib.sha1(record.key.encode()).hexdigest()[:20],
        "received_at": received,
        "source": "mqtt",
        "topic": record.topic,
        "device_id": where[1] if where else None,
        "reason": reason[:1000],
        "payload": record.payload[:DEAD_PAYLOAD_CHARS].decode("utf-8", "replace"),
    }
