-- 0006: live telemetry — messages that could not be stored, with the reason.
-- A dead letter never blocks the stream; its id is derived from where it was spooled, so replaying
-- the spool after a crash writes it once.
CREATE TABLE dead_letters (
    dead_letter_id  VARCHAR PRIMARY KEY,
    received_at     TIMESTAMPTZ NOT NULL,
    source          VARCHAR NOT NULL,
    topic           VARCHAR,
    device_id       VARCHAR,
    reason          VARCHAR NOT NULL,
    payload         VARCHAR
);
