-- crampcheck knowledge base, schema version 1.
-- Append-only: never edit a shipped migration; add 0002_*.sql instead.
-- Enumerations (severity, action, evidence, jurisdiction) are checked by
-- `crampcheck kb verify`, not by CHECK constraints, so that a broken KB can
-- still be loaded and every bad row reported by name.

CREATE TABLE kb_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sources (
    id           TEXT PRIMARY KEY,
    citation     TEXT NOT NULL,
    section      TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    kind         TEXT NOT NULL,
    date         TEXT NOT NULL,
    url          TEXT NOT NULL,
    origin       TEXT NOT NULL
);

CREATE TABLE drugs (
    name     TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    sources  TEXT NOT NULL,
    origin   TEXT NOT NULL
);

CREATE TABLE aliases (
    alias   TEXT NOT NULL,
    drug    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    sources TEXT NOT NULL,
    origin  TEXT NOT NULL
);
CREATE INDEX aliases_alias ON aliases(alias);

CREATE TABLE products (
    product    TEXT NOT NULL,
    ingredient TEXT NOT NULL,
    sources    TEXT NOT NULL,
    origin     TEXT NOT NULL
);
CREATE INDEX products_product ON products(product);

CREATE TABLE classes (
    class             TEXT PRIMARY KEY,
    description       TEXT NOT NULL,
    duplicate_therapy TEXT NOT NULL,
    sources           TEXT NOT NULL,
    origin            TEXT NOT NULL
);

CREATE TABLE class_members (
    class   TEXT NOT NULL,
    drug    TEXT NOT NULL,
    sources TEXT NOT NULL,
    origin  TEXT NOT NULL
);

CREATE TABLE conditions (
    code    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    aliases TEXT NOT NULL,
    sources TEXT NOT NULL,
    origin  TEXT NOT NULL
);

CREATE TABLE lab_thresholds (
    lab        TEXT NOT NULL,
    comparator TEXT NOT NULL,
    value      REAL NOT NULL,
    condition  TEXT NOT NULL,
    sources    TEXT NOT NULL,
    origin     TEXT NOT NULL
);

CREATE TABLE interactions (
    id             TEXT PRIMARY KEY,
    drug           TEXT NOT NULL,
    interacts_with TEXT NOT NULL,
    severity       TEXT NOT NULL,
    action         TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    mechanism      TEXT NOT NULL,
    effect         TEXT NOT NULL,
    management     TEXT NOT NULL,
    jurisdiction   TEXT NOT NULL,
    sources        TEXT NOT NULL,
    origin         TEXT NOT NULL
);

CREATE TABLE condition_cautions (
    id           TEXT PRIMARY KEY,
    drug         TEXT NOT NULL,
    condition    TEXT NOT NULL,
    min_age      INTEGER,
    severity     TEXT NOT NULL,
    action       TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    title        TEXT NOT NULL,
    mechanism    TEXT NOT NULL,
    management   TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    sources      TEXT NOT NULL,
    origin       TEXT NOT NULL
);

CREATE TABLE boxed_warnings (
    drug         TEXT NOT NULL,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    severity     TEXT NOT NULL,
    action       TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    sources      TEXT NOT NULL,
    origin       TEXT NOT NULL
);

CREATE TABLE dosing_rules (
    id                TEXT PRIMARY KEY,
    drug              TEXT NOT NULL,
    indication        TEXT NOT NULL,
    population        TEXT NOT NULL,
    start_mg_per_day  REAL,
    step_mg_per_day   REAL,
    step_every_days   INTEGER,
    max_mg_per_day    REAL,
    schedule          TEXT NOT NULL,
    note              TEXT NOT NULL,
    jurisdiction      TEXT NOT NULL,
    sources           TEXT NOT NULL,
    origin            TEXT NOT NULL
);

CREATE TABLE therapies (
    drug           TEXT NOT NULL,
    indication     TEXT NOT NULL,
    standing       TEXT NOT NULL,
    evidence_level TEXT NOT NULL,
    summary        TEXT NOT NULL,
    jurisdiction   TEXT NOT NULL,
    sources        TEXT NOT NULL,
    origin         TEXT NOT NULL,
    PRIMARY KEY (drug, indication)
);
