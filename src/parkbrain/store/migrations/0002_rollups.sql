-- 0002: rollups (15 min, hour, day) and the latest value per point, so that dashboards and the
-- API never scan raw readings. Buckets start at their label; day buckets are Asia/Shanghai days.
-- delta: for cumulative registers, the consumption attributed to the bucket: the increase from a
-- reading to the next one counts in the bucket of the earlier reading (so a day's delta is the
-- register at the next midnight minus the register at this one); a drop is a meter reset and counts
-- the new reading as consumed since zero. NULL for other points.
CREATE TABLE readings_15m (
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
CREATE TABLE readings_1h AS SELECT * FROM readings_15m WITH NO DATA;
CREATE TABLE readings_1d AS SELECT * FROM readings_15m WITH NO DATA;

CREATE TABLE latest_readings (
    point_id  VARCHAR PRIMARY KEY,
    ts        TIMESTAMPTZ NOT NULL,
    value     DOUBLE NOT NULL
);
