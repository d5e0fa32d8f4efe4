-- 0010: the policy corpus of the park assistant (policy Q&A with citations, 惠企政策匹配).
-- A document is imported once per content hash (sha256): importing the same file again changes
-- nothing, a changed file replaces its chunks and conditions. Chunks keep their heading path
-- (section, e.g. "二、对策建议/（一）强基行动：…") and their search tokens (jieba, search mode);
-- conditions are the machine-readable eligibility rules of a subsidy notice (ai/policy_match.py).
-- Policies are public documents: every role that reads sees them; only the province imports.
CREATE TABLE policy_documents (
    doc_id       VARCHAR PRIMARY KEY,
    title        VARCHAR NOT NULL,
    issuer       VARCHAR,
    published    DATE,
    kind         VARCHAR,                   -- subsidy | regulation | guide | report
    source_path  VARCHAR,
    sha256       VARCHAR NOT NULL,
    demo         BOOLEAN NOT NULL DEFAULT false,  -- written for the demo: labelled wherever shown
    lang         VARCHAR NOT NULL DEFAULT 'zh',
    imported_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE policy_chunks (
    chunk_id  VARCHAR PRIMARY KEY,          -- doc_id:seq
    doc_id    VARCHAR NOT NULL,
    seq       INTEGER NOT NULL,
    section   VARCHAR NOT NULL,
    text      VARCHAR NOT NULL,
    line      INTEGER,                      -- first line of the chunk in the source file
    tokens    VARCHAR[] NOT NULL            -- search tokens of section + text
);
CREATE TABLE policy_conditions (
    doc_id        VARCHAR NOT NULL,
    condition_id  VARCHAR NOT NULL,
    seq           INTEGER NOT NULL,         -- order in the document
    field         VARCHAR NOT NULL,
    op            VARCHAR NOT NULL,
    value         VARCHAR NOT NULL,         -- JSON
    label_zh      VARCHAR NOT NULL,
    label_en      VARCHAR,
    PRIMARY KEY (doc_id, condition_id)
);
