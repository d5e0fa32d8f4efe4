-- 0004: the trusted data space — people, API tokens, web sessions, sharing grants, audit log.
-- Secrets are never stored: passwords as argon2id hashes, tokens and session ids as SHA-256 digests.
CREATE TABLE users (
    user_id        VARCHAR PRIMARY KEY,
    username       VARCHAR NOT NULL UNIQUE,
    password_hash  VARCHAR NOT NULL,
    role           VARCHAR NOT NULL,
    park_id        VARCHAR,
    enterprise_id  VARCHAR,
    org            VARCHAR,
    display_name   VARCHAR,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    disabled_at    TIMESTAMPTZ
);

CREATE TABLE api_tokens (
    token_id       VARCHAR PRIMARY KEY,      -- public part, shown in lists and the audit log
    secret_sha256  VARCHAR NOT NULL,
    name           VARCHAR,
    role           VARCHAR NOT NULL,
    park_id        VARCHAR,
    enterprise_id  VARCHAR,
    device_id      VARCHAR,
    org            VARCHAR,
    user_id        VARCHAR,
    rate_per_min   INTEGER,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    last_used_at   TIMESTAMPTZ
);

CREATE TABLE sessions (
    session_sha256 VARCHAR PRIMARY KEY,
    user_id        VARCHAR NOT NULL,
    csrf_token     VARCHAR NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ
);

-- An enterprise opens chosen data to a party: 'park:<park_id>', 'enterprise:<enterprise_id>'
-- or 'integrator:<org>'. kind 'points' lists point ids; kind 'metrics' lists quantities
-- (all the grantor's points of that quantity, present and future).
CREATE TABLE grants (
    grant_id       VARCHAR PRIMARY KEY,
    enterprise_id  VARCHAR NOT NULL,
    grantee        VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    items          VARCHAR NOT NULL,          -- JSON array
    purpose        VARCHAR NOT NULL,
    created_by     VARCHAR NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_by     VARCHAR
);

-- Append-only, hash-chained: hash = sha256(canonical JSON of the entry including prev_hash).
CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    ts             TIMESTAMPTZ NOT NULL,
    actor          VARCHAR NOT NULL,
    role           VARCHAR,
    action         VARCHAR NOT NULL,
    target         VARCHAR,
    park_id        VARCHAR,
    enterprise_id  VARCHAR,
    detail         VARCHAR,                  -- JSON object
    prev_hash      VARCHAR NOT NULL,
    hash           VARCHAR NOT NULL
);
