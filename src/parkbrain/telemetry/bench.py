"""``parkbrain bench telemetry``: data points per second from MQTT publish to stored-and-queryable.

One run, on this machine, all real: a Mosquitto broker on a free port, a park database file with
``devices`` meters (default 2,000) of ``points`` points (default 50: 100,000 points in all), the
ParkBrain pipeline subscribed (QoS 1, acknowledging once spooled and fsync-ed), a publisher in its own
process sending ``messages`` JSON messages round-robin over the devices (one device, all its points,
stamped with the publish time) at QoS 1 — flat out, or paced at ``rate`` points/s (100,000 points/s
is every point reporting once a second) — and, side by side on the same stream, ``mosquitto_sub``:
the broker's own limit here.

Stored-and-queryable means committed in the database (raw readings, rollups and latest values);
latency is from the publish time in the payload to that commit, sampled on every 10th message.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARK = "bench"
#: Latency is measured on every SAMPLE-th message applied (parsing each again would slow the writer).
SAMPLE = 10
#: How often the writer applies the spool: the server's default.
APPLY_S = 0.2


@dataclass
class TelemetryBench:
    messages: int
    points_per_message: int
    seconds: float
    points_per_s: float
    latency_p50_s: float
    latency_p99_s: float
    broker_points_per_s: float | None
    publish_points_per_s: float
    stored_readings: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def lines(self) -> list[str]:
        broker = f"{self.broker_points_per_s:,.0f}" if self.broker_points_per_s else "(not run)"
        return [
            f"telemetry: {self.messages:,} MQTT messages × {self.points_per_message} points "
            f"= {self.messages * self.points_per_message:,} data points",
            f"  parkbrain (publish → stored and queryable): {self.points_per_s:,.0f} points/s; "
            f"latency p50 {self.latency_p50_s * 1000:.0f} ms, p99 {self.latency_p99_s * 1000:.0f} ms "
            f"(target ≥ 100,000 points/s, p99 < 2 s)",
            f"  reference, same stream: mosquitto_sub received {broker} points/s (the broker's limit here); "
            f"the publisher sent {self.publish_points_per_s:,.0f} points/s",
            f"  stored {self.stored_readings:,} readings (expected {self.messages * self.points_per_message:,})",
        ]


def _payload(seq: int, points: int, ts_ms: int) -> str:
    """One device's message: every point, stamped with the publish time."""
    return json.dumps({"ts": ts_ms, "values": {f"q{k}": float((seq * 7 + k) % 1000) for k in range(points)}})


def _publish(port: int, messages: int, devices: int, points: int, times: Any, done: Any, rate: float) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="parkbrain-bench-publisher")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = []
    start = time.monotonic()
    per_message = points / rate if rate else 0.0
    for seq in range(messages):
        if per_message:  # paced: hold the schedule of `rate` points per second
            delay = start + seq * per_message - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        times[seq] = time.monotonic()
        topic = f"parkbrain/{PARK}/d{seq % devices:04d}/telemetry"
        infos.append(client.publish(topic, _payload(seq // devices, points, int(time.time() * 1000)), qos=1))
    for info in infos:
        info.wait_for_publish(60)
    done.value = time.monotonic()
    client.loop_stop()
    client.disconnect()


def _build_park(db: Path, devices: int, points: int) -> None:
    from parkbrain import Park

    with Park.open(db) as park:
        park.store.write("regions", [{"region_code": "450100", "name": "南宁市", "level": "prefecture"}])
        park.store.write("parks", [{"park_id": PARK, "name": "基准园区", "region_code": "450100"}])
        park.store.write(
            "devices", [{"device_id": f"d{i:04d}", "park_id": PARK, "kind": "Meter"} for i in range(devices)]
        )
        park.store.write(
            "points",
            [
                {
                    "point_id": f"d{i:04d}.q{k}",
                    "device_id": f"d{i:04d}",
                    "quantity": f"q{k}",
                    "unit": "kW",
                    "value_kind": "instant",
                    "interval_s": 1,
                }
                for i in range(devices)
                for k in range(points)
            ],
        )


def run(
    messages: int = 40_000,
    devices: int = 2000,
    points: int = 50,
    rate: float = 0.0,
    folder: str | None = None,
    reference: bool = True,
) -> TelemetryBench:
    """Run the benchmark once and return its figures (see the module docstring).

    ``rate`` paces the publisher at that many data points per second (0: as fast as it can);
    ``reference`` runs mosquitto_sub on the same stream (the broker then delivers it twice).
    """
    from parkbrain import Park
    from parkbrain.telemetry.broker import start_mosquitto
    from parkbrain.telemetry.mqtt import MqttReceiver
    from parkbrain.telemetry.pipeline import TelemetryPipeline

    work = Path(folder or tempfile.mkdtemp(prefix="parkbrain-bench-"))
    broker = start_mosquitto(work / "broker")
    db = work / "bench.duckdb"
    _build_park(db, devices, points)
    park = Park.open(db)
    latencies: list[float] = []  # publish (the payload's ts) → commit, for every SAMPLE-th message
    applied = [0, 0.0]  # messages applied, time of the last commit

    def on_applied(records: list[Any], at: float) -> None:
        applied[0] += len(records)
        applied[1] = at
        wall = time.time() - (time.monotonic() - at)  # the commit, on the clock the payloads carry
        for record in records[::SAMPLE]:
            latencies.append(wall - json.loads(record.payload)["ts"] / 1000)

    pipeline = TelemetryPipeline(park.store, work / "spool", apply_s=APPLY_S, on_applied=on_applied)
    pipeline.start()
    receiver = MqttReceiver(pipeline, "127.0.0.1", broker.port, client_id="parkbrain-bench")
    receiver.start()
    sub = _mosquitto_sub(broker.port, messages) if reference else None
    times = multiprocessing.Array("d", messages, lock=False)
    done = multiprocessing.Value("d", 0.0, lock=False)
    publisher = multiprocessing.Process(
        target=_publish, args=(broker.port, messages, devices, points, times, done, rate)
    )
    started = time.monotonic()
    publisher.start()
    try:
        _wait(lambda: applied[0] >= messages, 600)
        publisher.join(60)
        sub_seconds = sub.result(120) - started if sub is not None else None
    finally:
        receiver.stop()
        pipeline.stop()
        stored = park.store.count("readings")
        park.close()
        broker.stop()
        if folder is None:
            shutil.rmtree(work, ignore_errors=True)
    first = min(times[i] for i in range(messages))
    last_commit = applied[1]
    latencies.sort()
    total_points = messages * points
    return TelemetryBench(
        messages,
        points,
        last_commit - first,
        total_points / (last_commit - first),
        statistics.median(latencies),
        latencies[int(0.99 * (len(latencies) - 1))],
        total_points / sub_seconds if sub_seconds else None,
        total_points / max(done.value - first, 1e-9),
        stored,
    )


def _mosquitto_sub(port: int, messages: int) -> Future[float] | None:
    """Start mosquitto_sub on the stream; the future gives the time it received the last message."""
    binary = shutil.which("mosquitto_sub")
    if binary is None:
        return None
    process = subprocess.Popen(
        [binary, "-p", str(port), "-q", "1", "-t", "parkbrain/#", "-C", str(messages), "-F", "%I"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)  # subscribed before the first message

    def finished() -> float:
        process.wait()
        return time.monotonic()

    return ThreadPoolExecutor(1).submit(finished)


def _wait(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark stream did not finish in time")
        time.sleep(0.01)
