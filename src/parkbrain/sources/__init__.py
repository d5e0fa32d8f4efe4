"""Ways data comes in: telemetry payloads (HTTP, later MQTT), files (later)."""
