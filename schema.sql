-- sustrack schema, version 1.
--
-- This file is migration 1 and is never edited once released: later
-- versions are appended as new migrations in src/store/mod.rs.
-- No table holds a personnummer, a name or free text. A person is a
-- fingerprint (argon2id under the salt in `meta`) plus gender and birth year.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE intervention (
    code                TEXT PRIMARY KEY CHECK (code GLOB '[A-Z0-9]*' AND code NOT GLOB '*[^A-Z0-9_-]*' AND length(code) <= 32),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    parent              TEXT REFERENCES intervention(code),
    kind                TEXT NOT NULL CHECK (kind IN ('individual', 'volume')),
    target_work_studies REAL CHECK (target_work_studies BETWEEN 0 AND 1),
    target_step         REAL CHECK (target_step BETWEEN 0 AND 1),
    target_qol          REAL CHECK (target_qol BETWEEN 0 AND 1),
    created_at          TEXT NOT NULL
) STRICT;

CREATE TABLE person (
    id           INTEGER PRIMARY KEY,
    fingerprint  BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    gender       TEXT NOT NULL,
    birth_year   INTEGER NOT NULL,
    consent_date TEXT NOT NULL
) STRICT;

CREATE TABLE enrolment (
    id               TEXT PRIMARY KEY,          -- uuid v4, lower-case, hyphenated
    intervention     TEXT NOT NULL REFERENCES intervention(code),
    person_id        INTEGER REFERENCES person(id) ON DELETE CASCADE,  -- NULL: anonymous
    local_id         TEXT,                      -- anonymous only: the team's own id, matches start to exit in imports
    gender           TEXT NOT NULL,
    birth_year       INTEGER,
    start_date       TEXT NOT NULL,             -- YYYY-MM-DD
    exit_date        TEXT,
    municipality     TEXT,
    support          TEXT,
    years_in_support TEXT,
    education        TEXT,
    referrer         TEXT,
    outcome          TEXT,
    support_after    TEXT,
    step_progress    TEXT,
    quality_of_life  TEXT,
    CHECK (person_id IS NULL OR local_id IS NULL),
    CHECK (exit_date IS NULL OR exit_date >= start_date),
    CHECK ((exit_date IS NULL) = (outcome IS NULL))
) STRICT, WITHOUT ROWID;
-- Clustered by the random uuid: a full scan (what reports and exports do)
-- reads pages in order, and yields rows in an order that says nothing about
-- when they were registered. When each change happened is in the audit trail.
-- There is deliberately no index on dates: every report scans the table once,
-- which beats an index range scan with a lookup per row.

CREATE INDEX enrolment_person ON enrolment(person_id, intervention) WHERE person_id IS NOT NULL;
CREATE INDEX enrolment_local ON enrolment(intervention, local_id) WHERE local_id IS NOT NULL;

CREATE TABLE volume (
    intervention TEXT NOT NULL REFERENCES intervention(code),
    month        TEXT NOT NULL,               -- YYYY-MM
    women        INTEGER NOT NULL CHECK (women >= 0),
    men          INTEGER NOT NULL CHECK (men >= 0),
    PRIMARY KEY (intervention, month)
) STRICT;

-- Append-only audit trail: every change, report and export.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,                    -- UTC, RFC 3339
    actor   TEXT NOT NULL,                    -- OS user or --by
    action  TEXT NOT NULL,
    subject TEXT,                             -- enrolment id, intervention code or period
    detail  TEXT
) STRICT;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
