-- 0001: the canonical park data model (DESIGN.md, "The park data model").
-- Readings are unique on (point_id, ts); the single writer enforces it (see store/duckdb.py),
-- because a DuckDB ART index over billions of readings costs 4x the disk and 4x the ingest time.
CREATE TABLE regions (
    region_code  VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    name_en      VARCHAR,
    level        VARCHAR NOT NULL,
    parent_code  VARCHAR,
    geometry     VARCHAR
);

CREATE TABLE parks (
    park_id            VARCHAR PRIMARY KEY,
    name               VARCHAR NOT NULL,
    name_en            VARCHAR,
    region_code        VARCHAR NOT NULL,
    level              VARCHAR,
    kind               VARCHAR,
    approved_area_ha   DOUBLE,
    leading_industries VARCHAR,
    lon                DOUBLE,
    lat                DOUBLE,
    boundary           VARCHAR
);

CREATE TABLE buildings (
    building_id  VARCHAR PRIMARY KEY,
    park_id      VARCHAR NOT NULL,
    name         VARCHAR,
    floors       INTEGER,
    area_m2      DOUBLE,
    ifc_guid     VARCHAR,
    footprint    VARCHAR
);

CREATE TABLE enterprises (
    enterprise_id         VARCHAR PRIMARY KEY,
    park_id               VARCHAR NOT NULL,
    name                  VARCHAR NOT NULL,
    uscc                  VARCHAR,
    industry_code         VARCHAR,
    industry_name         VARCHAR,
    employees             INTEGER,
    output_value_10k_cny  DOUBLE,
    key_energy_user       BOOLEAN DEFAULT false,
    building_id           VARCHAR,
    lon                   DOUBLE,
    lat                   DOUBLE
);

CREATE TABLE devices (
    device_id      VARCHAR PRIMARY KEY,
    park_id        VARCHAR NOT NULL,
    enterprise_id  VARCHAR,
    building_id    VARCHAR,
    kind           VARCHAR NOT NULL,
    name           VARCHAR,
    vendor         VARCHAR,
    model          VARCHAR
);

CREATE TABLE points (
    point_id        VARCHAR PRIMARY KEY,
    device_id       VARCHAR NOT NULL,
    quantity        VARCHAR NOT NULL,
    unit            VARCHAR NOT NULL,
    brick_class     VARCHAR,
    value_kind      VARCHAR NOT NULL CHECK (value_kind IN ('cumulative', 'interval', 'instant')),
    interval_s      INTEGER,
    energy_carrier  VARCHAR
);

CREATE TABLE readings (
    point_id  VARCHAR NOT NULL,
    ts        TIMESTAMPTZ NOT NULL,
    value     DOUBLE NOT NULL
);

CREATE TABLE alerts (
    alert_id       VARCHAR PRIMARY KEY,
    ts             TIMESTAMPTZ NOT NULL,
    park_id        VARCHAR,
    enterprise_id  VARCHAR,
    device_id      VARCHAR,
    point_id       VARCHAR,
    rule           VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,
    message        VARCHAR,
    status         VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'closed'))
);
