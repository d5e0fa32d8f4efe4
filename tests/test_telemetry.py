"""Live telemetry with the real broker (Mosquitto): delivery, dead letters, idempotency, the spool,
and a server killed with SIGKILL mid-stream that still stores every acknowledged reading exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from parkbrain import Park
from parkbrain.telemetry.broker import free_port, start_mosquitto
from parkbrain.telemetry.mqtt import MqttReceiver, parse_address
from parkbrain.telemetry.pipeline import TelemetryPipeline, parse_topic
from parkbrain.telemetry.spool import Spool, read_segment
from tests.test_import import seed

pytestmark = pytest.mark.xdist_group("mqtt")
TOPIC = "parkbrain/nn-etdz/m1/telemetry"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    running = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield running
    running.stop()


def publish(port: int, topic: str, message: str) -> None:
    subprocess.run(
        ["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, "-m", message], check=True, timeout=10
    )


def wait_for(condition, timeout: float = 10.0, every: float = 0.02) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("timed out")
        time.sleep(every)
    return time.monotonic() - started


def message(i: int, **values: float) -> str:
    return json.dumps({"ts": int((T0 + timedelta(seconds=i)).timestamp() * 1000), "values": values})


@pytest.fixture
def live(broker, tmp_path, request):
    park = seed(Park(memory=True))
    pipeline = TelemetryPipeline(park.store, tmp_path / "spool", apply_s=0.05)
    pipeline.start()
    receiver = MqttReceiver(pipeline, "127.0.0.1", broker.port, client_id=f"test-{request.node.name}"[:60])
    receiver.start()
    yield park, pipeline
    receiver.stop()
    pipeline.stop()


def test_a_published_reading_is_stored_and_rolled_up(live, broker):
    park, pipeline = live
    publish(broker.port, TOPIC, message(0, electric_energy=1234.5, **{"m1-kw": 7.25}))
    wait_for(lambda: park.store.count("readings") == 2)  # the time it takes is for the benchmark
    latest = {r["point_id"]: r["value"] for r in park.store.query_rows("SELECT * FROM latest_readings")}
    assert latest == {"m1-kwh": 1234.5, "m1-kw": 7.25}
    assert park.store.count("readings_15m") == 2 and pipeline.stats.acknowledged == 1
    wait_for(lambda: park.store.count("readings_1h") == 2)  # hours and days are folded once idle
    assert park.store.count("readings_1d") == 2 and park.store.count("rollups_staged") == 0


BAD = {
    "not json": (TOPIC, "{oops", "not JSON"),
    "unknown device": ("parkbrain/nn-etdz/nope/telemetry", message(1, x=1), "has no device 'nope'"),
    "device of another park": (
        "parkbrain/qz-port/m1/telemetry",
        message(1, electric_energy=1),
        "park qz-port has no device 'm1'",
    ),
    "unknown point": (TOPIC, message(1, humidity=50), "has no such point or quantity"),
    "bad number": (TOPIC, json.dumps({"ts": 1, "values": {"m1-kw": "12,5"}}), "expected a finite number"),
    "bad time": (TOPIC, json.dumps({"ts": "yesterday", "values": {"m1-kw": 1}}), "is not a date or time"),
    "nested too deep": (TOPIC, "[" * 20_000 + "]" * 20_000, "unreadable message"),
    "number beyond a double": (
        TOPIC,
        '{"ts": 1, "values": {"m1-kw": 1' + "0" * 400 + "}}",
        "expected a finite number",
    ),
}


def test_bad_messages_become_dead_letters_and_the_stream_goes_on(live, broker):
    park, pipeline = live
    for topic, body, _ in BAD.values():
        publish(broker.port, topic, body)
    publish(broker.port, TOPIC, message(2, **{"m1-kw": 3.0}))
    wait_for(lambda: park.store.count("dead_letters") == len(BAD) and park.store.count("readings") == 1)
    reasons = [r["reason"] for r in park.store.query_rows("SELECT reason FROM dead_letters")]
    for _, _, expected in BAD.values():
        assert any(expected in r for r in reasons), (expected, reasons)
    assert pipeline.stats.last_error is None


def test_a_redelivered_message_adds_nothing(live, broker):
    park, pipeline = live
    body = message(3, **{"m1-kw": 5.0})
    publish(broker.port, TOPIC, body)
    publish(broker.port, TOPIC, body)
    wait_for(lambda: pipeline.stats.messages_applied == 2)
    assert park.store.count("readings") == 1 and pipeline.stats.readings_duplicate == 1


def test_the_spool_is_applied_at_start_and_a_torn_record_is_dropped(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.append([(TOPIC, message(i, **{"m1-kw": float(i)}).encode()) for i in range(3)])
    spool.seal()
    segment = spool.segments()[0]
    with open(segment, "ab") as fh:  # a crash in the middle of writing a fourth record
        fh.write(b"\x40\x00\x00\x00garbage")
    assert len(list(read_segment(segment))) == 3
    park = seed(Park(memory=True))
    pipeline = TelemetryPipeline(park.store, tmp_path / "spool")
    pipeline.start()
    pipeline.stop()
    assert park.store.count("readings") == 3 and not spool.segments()


def test_topics_and_addresses():
    assert parse_topic("parkbrain/p1/d1/telemetry") == ("p1", "d1")
    assert parse_topic("parkbrain/p1/telemetry") is None and parse_topic("other/p1/d1/telemetry") is None
    assert parse_address("127.0.0.1:1884") == ("127.0.0.1", 1884) and parse_address("broker") == (
        "broker",
        1883,
    )


# -- the server, killed mid-stream --------------------------------------------------------------


def _serve(db: Path, port: int, mqtt: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parkbrain.cli",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--mqtt",
            mqtt,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _wait_http(port: int, timeout: float = 30) -> None:
    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    wait_for(up, timeout, every=0.2)


def _stored(db: Path, port: int, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/points/m1-kw/readings?interval=1d&start=2026-11-01&end=2026-12-01",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return sum(r["n"] for r in json.loads(response.read())["readings"])


def test_sigkill_mid_stream_loses_no_acknowledged_reading(broker, tmp_path):
    import paho.mqtt.client as mqtt

    db = tmp_path / "park.duckdb"
    with Park.open(db) as park:
        seed(park)
        token = park.create_token("province_admin", expires="1d").secret
    http = free_port()
    server = _serve(db, http, broker.address)
    _wait_http(http)
    total, sent = 3000, []
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fault-publisher")
    publisher.max_inflight_messages_set(100)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()

    def stream() -> None:
        for i in range(total):
            info = publisher.publish(TOPIC, message(i, **{"m1-kw": float(i)}), qos=1)
            info.wait_for_publish(10)  # the broker has it (PUBACK)
            sent.append(i)
            time.sleep(0.0005)

    thread = threading.Thread(target=stream)
    thread.start()
    wait_for(lambda: len(sent) > total // 3, 30)
    os.killpg(server.pid, signal.SIGKILL)  # no shutdown, no flush: mid-stream
    server.wait(10)
    before_restart = len(sent)
    server = _serve(db, http, broker.address)
    try:
        _wait_http(http)
        thread.join(60)
        assert len(sent) == total and before_restart < total
        wait_for(lambda: _stored(db, http, token) == total, 60, every=0.5)
    finally:
        publisher.loop_stop()
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    with Park.open(db, read_only=True) as park:
        rows = park.store.query_rows(
            "SELECT count(*) AS n, count(DISTINCT ts) AS distinct_ts, min(value) AS lo, max(value) AS hi "
            "FROM readings WHERE point_id = 'm1-kw'"
        )[0]
    assert rows == {"n": total, "distinct_ts": total, "lo": 0.0, "hi": float(total - 1)}


def test_a_segment_is_never_handed_to_the_writer_while_it_is_still_appended_to(tmp_path):
    """Regression: listing the sealed segments outside the lock once let the writer delete a segment
    the spool thread had just opened, and the records appended after that were lost."""
    spool = Spool(tmp_path / "spool")
    total, seen = 20_000, []
    done = threading.Event()

    def writer() -> None:
        while not done.is_set() or spool.segments():
            spool.seal()
            for path in spool.sealed():
                seen.extend(r.payload for r in read_segment(path))
                path.unlink()

    thread = threading.Thread(target=writer)
    thread.start()
    for i in range(0, total, 10):
        spool.append([(TOPIC, str(i + k).encode()) for k in range(10)])
    done.set()
    thread.join(30)
    assert sorted(int(p) for p in seen) == list(range(total))


def test_lake_export_retention_and_the_telemetry_bench_from_the_cli(tmp_path):
    from click.testing import CliRunner

    from parkbrain.cli import cli

    db = tmp_path / "park.duckdb"
    with Park.open(db) as park:
        seed(park)
        park.store.write_readings(
            [
                {"point_id": "m1-kw", "ts": T0 - timedelta(days=d), "value": float(d)}
                for d in range(0, 100, 10)
            ]
        )
    runner = CliRunner()
    out = runner.invoke(
        cli, ["lake", "export", "--db", str(db), "--out", str(tmp_path / "lake"), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["rows"] == 10
    import duckdb

    back = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/lake/readings/**/*.parquet', hive_partitioning=true)"
    )
    assert back.fetchall() == [(10,)]
    dry = runner.invoke(cli, ["retention", "--db", str(db), "--keep", "raw=30", "--format", "json"])
    assert dry.exit_code == 0, dry.output
    assert next(r for r in json.loads(dry.output) if r["table"] == "readings")["rows_deleted"] > 0
    with Park.open(db, read_only=True) as park:
        assert park.store.count("readings") == 10  # a dry run deletes nothing
    bad = runner.invoke(cli, ["retention", "--db", str(db), "--keep", "raw"])
    assert bad.exit_code != 0 and "RESOLUTION=DAYS" in bad.output
    bench = runner.invoke(
        cli,
        ["bench", "telemetry", "--messages", "300", "--points", "5", "--rate", "5000", "--format", "json"],
    )
    assert bench.exit_code == 0, bench.output
    figures = json.loads(bench.output[bench.output.index("{") :])
    assert figures["paced"]["stored_readings"] == 1500 and figures["flat_out"]["points_per_s"] > 0


def test_an_http_push_runs_the_alert_rules_like_mqtt():
    from fastapi.testclient import TestClient

    from parkbrain.api import create_app

    park = seed(Park(memory=True))
    park.store.write(
        "points",
        [
            {
                "point_id": "m1-vib",
                "device_id": "m1",
                "quantity": "vibration_rms",
                "unit": "mm/s",
                "value_kind": "instant",
            }
        ],
    )
    at = int(T0.timestamp() * 1000)
    park.push_telemetry("m1", {"ts": at, "values": {"vibration_rms": 8.0}})

    def alerts() -> dict[str, tuple]:
        rows = park.store.query_rows(
            "SELECT rule, value, status FROM alerts WHERE point_id = 'm1-vib' ORDER BY ts"
        )
        return {r["rule"]: (r["value"], r["status"]) for r in rows}

    assert alerts() == {"vibration_zone_c": (8.0, "open"), "vibration_high": (8.0, "open")}
    park.push_telemetry(
        "m1", {"ts": at + 60_000, "values": {"vibration_rms": 3.0}}
    )  # below both clear levels
    assert {status for _, status in alerts().values()} == {"closed"}

    token = park.create_token("device", device_id="m1").secret
    client = TestClient(create_app(park))
    response = client.post(
        "/api/telemetry/m1",
        json={"ts": at + 120_000, "values": {"vibration_rms": 7.5}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.json()["stored"] == 1
    opened = park.store.query_rows(
        "SELECT rule, value FROM alerts WHERE point_id = 'm1-vib' AND status = 'open' ORDER BY rule"
    )
    assert opened == [{"rule": "vibration_high", "value": 7.5}, {"rule": "vibration_zone_c", "value": 7.5}]
    assert park.as_principal(park.principal).alert_engine is park.alert_engine  # one engine per database
