-- 0008: generated report files (energy & carbon monthly reports, on a schedule or on demand).
-- The file lies in the reports folder beside the database (file_name is relative to it); report_id is
-- derived from (schedule, kind, subject, period, format), so a schedule that runs twice writes once.
CREATE TABLE reports (
    report_id      VARCHAR PRIMARY KEY,
    kind           VARCHAR NOT NULL,          -- enterprise | park
    subject_id     VARCHAR NOT NULL,
    park_id        VARCHAR NOT NULL,
    enterprise_id  VARCHAR,                   -- set for enterprise reports (tenant scope)
    period         VARCHAR NOT NULL,          -- e.g. 2026-10
    start_ts       TIMESTAMPTZ NOT NULL,
    end_ts         TIMESTAMPTZ NOT NULL,
    format         VARCHAR NOT NULL,          -- xlsx | csv | json
    file_name      VARCHAR NOT NULL,
    size_bytes     BIGINT,
    sha256         VARCHAR,
    schedule       VARCHAR,                   -- the schedule's name; NULL on demand
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     VARCHAR NOT NULL
);
