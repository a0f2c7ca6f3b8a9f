-- A rule on how many drugs of one class a patient takes together, counted
-- over the proposed drug and the list (AGS Beers 2023: three or more
-- CNS-active drugs in an older adult raise the risk of falls). It applies
-- when the proposed drug is a member and at least `min_count` distinct
-- members are taken, at or above `min_age` years when one is given.
CREATE TABLE class_count_rules (
    id           TEXT PRIMARY KEY,
    class        TEXT NOT NULL,
    min_count    INTEGER NOT NULL,
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
