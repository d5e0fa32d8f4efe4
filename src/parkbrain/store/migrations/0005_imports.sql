-- 0005: file imports and their lineage, and park zones.
-- Every imported row carries the import_id of the import that last wrote it; `imports` says which
-- file (name and SHA-256), when, by whom, with which source, options and row counts.
-- import_id is a small integer: a constant integer column costs next to nothing on 10^9 readings.
CREATE TABLE imports (
    import_id     INTEGER PRIMARY KEY,
    file_name     VARCHAR NOT NULL,
    file_sha256   VARCHAR NOT NULL,
    size_bytes    BIGINT NOT NULL,
    source        VARCHAR NOT NULL,
    target        VARCHAR NOT NULL,
    options       VARCHAR,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL,
    actor         VARCHAR NOT NULL,
    park_id       VARCHAR,
    source_crs    VARCHAR,
    encoding      VARCHAR,
    rows_read     BIGINT NOT NULL,
    rows_written  BIGINT NOT NULL,
    duplicates    BIGINT NOT NULL DEFAULT 0,
    conflicts     BIGINT NOT NULL DEFAULT 0,
    detail        VARCHAR
);

CREATE TABLE zones (
    zone_id      VARCHAR PRIMARY KEY,
    park_id      VARCHAR,
    name         VARCHAR NOT NULL,
    kind         VARCHAR,
    geometry     VARCHAR,
    area_m2      DOUBLE,
    data_source  VARCHAR
);

ALTER TABLE regions ADD COLUMN data_source VARCHAR;
ALTER TABLE regions ADD COLUMN source_crs VARCHAR;
ALTER TABLE regions ADD COLUMN import_id INTEGER;
ALTER TABLE parks ADD COLUMN source_crs VARCHAR;
ALTER TABLE parks ADD COLUMN import_id INTEGER;
ALTER TABLE zones ADD COLUMN source_crs VARCHAR;
ALTER TABLE zones ADD COLUMN import_id INTEGER;
ALTER TABLE buildings ADD COLUMN source_crs VARCHAR;
ALTER TABLE buildings ADD COLUMN lon DOUBLE;
ALTER TABLE buildings ADD COLUMN lat DOUBLE;
ALTER TABLE buildings ADD COLUMN import_id INTEGER;
ALTER TABLE enterprises ADD COLUMN source_crs VARCHAR;
ALTER TABLE enterprises ADD COLUMN import_id INTEGER;
ALTER TABLE devices ADD COLUMN import_id INTEGER;
ALTER TABLE points ADD COLUMN import_id INTEGER;
ALTER TABLE readings ADD COLUMN import_id INTEGER;

-- Readings bulk-loaded but not yet rolled up (point and the first day to recompute); written in the
-- import's transaction and cleared by the rollup refresh that follows it, or at the next open.
CREATE TABLE rollups_pending (
    point_id  VARCHAR NOT NULL,
    lo        TIMESTAMPTZ
);
