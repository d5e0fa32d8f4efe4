"""Serving a park database, and talking to the server that holds one.

DuckDB lets one process open a file for writing. While ``parkbrain serve`` runs, it leaves a lock
file beside the database (``<db>.server.json``: pid, URL and a random token, readable only by its
owner); the CLI finds it and sends its command to the server instead of opening the file, the way a
container CLI talks to its daemon.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parkbrain.errors import ParkError, StoreError


@dataclass(frozen=True)
class ServerLock:
    pid: int
    url: str
    token: str

    @staticmethod
    def path_for(db: str | Path) -> Path:
        return Path(str(db) + ".server.json")


def write_lock(db: str | Path, url: str) -> ServerLock:
    """Create the lock file for a server on ``db`` (mode 0600)."""
    lock = ServerLock(os.getpid(), url, secrets.token_urlsafe(32))
    path = ServerLock.path_for(db)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": lock.pid, "url": lock.url, "token": lock.token}, fh)
    return lock


def remove_lock(db: str | Path) -> None:
    path = ServerLock.path_for(db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def read_lock(db: str | Path) -> ServerLock | None:
    """The lock of a live server on ``db``, or None (a stale lock of a dead process is ignored)."""
    path = ServerLock.path_for(db)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        lock = ServerLock(int(data["pid"]), str(data["url"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(lock.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return lock


def call_server(
    lock: ServerLock, method: str, route: str, body: dict[str, Any] | None = None, timeout_s: float = 120
) -> Any:
    """Call a local route of the server; ParkErrors come back as ParkErrors."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(
        lock.url.rstrip("/") + route,
        data=data,
        method=method,
        headers={"X-ParkBrain-Local-Token": lock.token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - loopback URL
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read().decode("utf-8"))["error"]
            raise ParkError(error["message"]) from None
        except (ValueError, KeyError, TypeError):
            raise StoreError(f"the server at {lock.url} answered {exc.code}") from None
    except urllib.error.URLError as exc:
        raise StoreError(
            f"the server at {lock.url} holds the database but does not answer: {exc.reason}"
        ) from None


def serve(
    db: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    mqtt: str | None = None,
    spool: str | Path | None = None,
) -> None:
    """Serve the park database at ``db`` until interrupted; with ``mqtt``, take live telemetry too."""
    import uvicorn

    from parkbrain.api import create_app
    from parkbrain.api.security import install_log_redaction
    from parkbrain.core import Park

    park = Park.open(db)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    lock = write_lock(db, url)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so that the
    # lock file is removed and the database closed cleanly.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    live = None
    watch = start_maintenance_watch(park)
    reports = start_report_schedule(park)
    try:
        if mqtt:
            live = start_telemetry(park, mqtt, spool or str(db) + ".spool")
        app = create_app(park, local_token=lock.token)
        install_log_redaction()
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        reports.stop()
        watch.stop()
        if live is not None:
            live.stop()
        remove_lock(db)
        park.close()


def start_report_schedule(park: Any) -> Any:
    """The monthly energy & carbon reports (``analytics.energy_schedule.MONTHLY``), in a background thread."""
    from parkbrain.analytics.energy_schedule import ReportScheduler

    return ReportScheduler(lambda now, stopping: park.run_scheduled_reports(now, stop=stopping)).start()


@dataclass
class LiveTelemetry:
    """The MQTT receiver and the pipeline it feeds, stopped in that order."""

    receiver: Any
    pipeline: Any

    def stop(self) -> None:
        self.receiver.stop()
        self.pipeline.stop()


def start_telemetry(park: Any, address: str, spool: str | Path) -> LiveTelemetry:
    """Apply what the spool holds from a previous run, then subscribe to the broker at ``address``."""
    from parkbrain.telemetry.mqtt import MqttReceiver, parse_address
    from parkbrain.telemetry.pipeline import TelemetryPipeline

    host, port = parse_address(address)
    pipeline = TelemetryPipeline(park.store, spool, alerts=park.alert_engine)
    pipeline.start()
    receiver = MqttReceiver(pipeline, host, port)
    try:
        receiver.start()
    except BaseException:
        pipeline.stop()
        raise
    return LiveTelemetry(receiver, pipeline)


def start_maintenance_watch(park: Any, interval_s: float | None = None) -> Any:
    """Check overdue maintenance now and periodically (``analytics.operations_watch``), as the system."""
    from parkbrain.analytics.operations_watch import CHECK_INTERVAL_S, MaintenanceWatch

    return MaintenanceWatch(park.check_maintenance, interval_s or CHECK_INTERVAL_S).start()


def _exit_on_signal(signum: int, frame: object) -> None:
    sys.exit(0)
