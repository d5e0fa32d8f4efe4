-- 0009: a live stream's hourly and daily rollups are folded every few seconds, not every batch.
-- Each telemetry batch merges its readings into readings_15m and latest_readings at once, and
-- stages its 15-minute aggregates (and the consumption bridging the stored latest reading to the
-- batch's first one) here, in the same transaction; the writer folds them into readings_1h and
-- readings_1d when idle or every few seconds, and any other rollup refresh folds them first.
-- seq orders the batches (first and last values of a bucket come from the earliest and latest).
CREATE SEQUENCE rollups_staged_seq;
CREATE TABLE rollups_staged (
    seq       BIGINT NOT NULL,
    point_id  VARCHAR NOT NULL,
    bucket    TIMESTAMPTZ NOT NULL,
    n         BIGINT NOT NULL,
    sum       DOUBLE,
    min       DOUBLE,
    max       DOUBLE,
    first     DOUBLE,
    last      DOUBLE,
    delta     DOUBLE
);
CREATE TABLE rollups_staged_bridges (
    point_id  VARCHAR NOT NULL,
    last_ts   TIMESTAMPTZ NOT NULL,
    delta     DOUBLE
);
