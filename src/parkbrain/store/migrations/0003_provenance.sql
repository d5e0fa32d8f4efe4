-- 0003: provenance and the columns added after 0001.
-- data_source says where a row came from ('demo' rows are invented; 'real:<dataset>' rows carry
-- real measurements); the sources table describes each source with its licence.
ALTER TABLE regions ADD COLUMN area_km2 DOUBLE;
ALTER TABLE parks ADD COLUMN short_names VARCHAR;
ALTER TABLE parks ADD COLUMN approval_year INTEGER;
ALTER TABLE parks ADD COLUMN data_source VARCHAR;
ALTER TABLE buildings ADD COLUMN use VARCHAR;
ALTER TABLE buildings ADD COLUMN data_source VARCHAR;
ALTER TABLE enterprises ADD COLUMN data_source VARCHAR;
ALTER TABLE devices ADD COLUMN ifc_guid VARCHAR;
ALTER TABLE devices ADD COLUMN data_source VARCHAR;
ALTER TABLE points ADD COLUMN name VARCHAR;
ALTER TABLE points ADD COLUMN data_source VARCHAR;
ALTER TABLE alerts ADD COLUMN value DOUBLE;

CREATE TABLE sources (
    source_id    VARCHAR PRIMARY KEY,
    title        VARCHAR NOT NULL,
    description  VARCHAR,
    url          VARCHAR,
    license      VARCHAR,
    time_shift   VARCHAR,
    created_at   TIMESTAMPTZ DEFAULT current_timestamp
);

-- Ground truth for demo equipment faults (injected or labelled in real data), for evaluating detectors.
CREATE TABLE fault_labels (
    device_id   VARCHAR NOT NULL,
    start_ts    TIMESTAMPTZ NOT NULL,
    end_ts      TIMESTAMPTZ NOT NULL,
    kind        VARCHAR NOT NULL,
    data_source VARCHAR
);
