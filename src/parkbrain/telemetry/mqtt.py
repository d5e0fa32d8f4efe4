"""The MQTT receiver: a persistent QoS 1 subscription whose messages are acknowledged only once spooled.

Topic ``parkbrain/{park_id}/{device_id}/telemetry``; payload as ThingsBoard devices send it
(``{"ts": …, "values": {…}}`` or a list of them). The session is persistent (clean session off, a
fixed client id), so the broker keeps what arrives while the server is down and redelivers what was
not acknowledged. paho-mqtt is the optional extra ``mqtt``.
"""

from __future__ import annotations

import threading
from typing import Any

from parkbrain.errors import ConfigError, InvalidInput, missing_extra

TOPIC_FILTER = "parkbrain/+/+/telemetry"
DEFAULT_CLIENT_ID = "parkbrain-ingest"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (port 1883 when omitted)."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "1883")
    try:
        number = int(port)
    except ValueError:
        raise InvalidInput(f"--mqtt: {text!r}; expected HOST:PORT such as 127.0.0.1:1883") from None
    if not host or not 0 < number < 65536:
        raise InvalidInput(f"--mqtt: {text!r}; expected HOST:PORT such as 127.0.0.1:1883")
    return host, number


class MqttReceiver:
    """Subscribes to the telemetry topics and feeds a ``TelemetryPipeline``."""

    def __init__(
        self,
        pipeline: Any,
        host: str,
        port: int,
        client_id: str = DEFAULT_CLIENT_ID,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise missing_extra("paho-mqtt", "mqtt") from None
        self.pipeline, self.host, self.port = pipeline, host, port
        self.connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = lambda *_a: self.connected.clear()

    def start(self, timeout_s: float = 10) -> None:
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise ConfigError(f"cannot reach the MQTT broker at {self.host}:{self.port}: {exc}") from None
        self.client.loop_start()
        if not self.connected.wait(timeout_s):
            self.stop()
            raise ConfigError(f"the MQTT broker at {self.host}:{self.port} did not accept the connection")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            return
        client.subscribe(TOPIC_FILTER, qos=1)
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        mid, qos = message.mid, message.qos

        def ack() -> None:
            if qos > 0:
                client.ack(mid, qos)

        self.pipeline.submit(message.topic, message.payload, ack)
