"""A local Mosquitto broker for tests, benchmarks and trying ParkBrain out (Debian package ``mosquitto``).

Started on a free loopback port with persistence on, an unlimited queue for persistent sessions and
a wide in-flight window (the defaults — 20 unacknowledged QoS 1 messages, 1000 queued — throttle a
receiver that acknowledges in batches, and drop messages while it is down).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from parkbrain.errors import ConfigError

CONFIG = """listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {folder}/
autosave_interval 1
max_inflight_messages 1000
max_queued_messages 0
"""


@dataclass
class Broker:
    process: subprocess.Popen
    port: int
    folder: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_mosquitto(folder: str | Path, port: int | None = None) -> Broker:
    """Start ``mosquitto`` with its data in ``folder``; wait until it accepts connections."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        raise ConfigError("mosquitto is not installed: apt-get install mosquitto mosquitto-clients")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = folder / "mosquitto.conf"
    config.write_text(CONFIG.format(port=port, folder=folder), encoding="utf-8")
    log = open(folder / "mosquitto.log", "ab")  # noqa: SIM115 - the broker writes to it until stopped
    process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(f"mosquitto exited at start; see {folder / 'mosquitto.log'}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return Broker(process, port, folder)
        time.sleep(0.05)
    process.kill()
    raise ConfigError(f"mosquitto did not listen on port {port} within 10 s")
