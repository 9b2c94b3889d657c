-- Migration 10: activities, referrals and money (issue 18, SPEC 13).
-- Never edited once released.
--
-- 1. Interventions gain the kind `structural` (structural work that takes
-- only activities). The kind's CHECK is part of the table, so the table is
-- rebuilt as SQLite's documentation describes: the migration runs with
-- foreign keys off (set outside the transaction by the caller), the rows
-- are copied, and `foreign_key_check` runs before the commit.
CREATE TABLE intervention_v10 (
    code                TEXT PRIMARY KEY CHECK (code GLOB '[A-Z0-9]*' AND code NOT GLOB '*[^A-Z0-9_-]*' AND length(code) <= 32),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    parent              TEXT REFERENCES intervention(code),
    kind                TEXT NOT NULL CHECK (kind IN ('individual', 'volume', 'structural')),
    target_work_studies REAL CHECK (target_work_studies BETWEEN 0 AND 1),
    target_step         REAL CHECK (target_step BETWEEN 0 AND 1),
    target_qol          REAL CHECK (target_qol BETWEEN 0 AND 1),
    created_at          TEXT NOT NULL
) STRICT;
INSERT INTO intervention_v10 (code, name, parent, kind, target_work_studies, target_step, target_qol, created_at)
    SELECT code, name, parent, kind, target_work_studies, target_step, target_qol, created_at FROM intervention;
DROP TABLE intervention;
ALTER TABLE intervention_v10 RENAME TO intervention;

-- 2. Activities: occasions that reach people without an enrolment
-- (competence days, network meetings). Head counts only, never a person.
CREATE TABLE activity (
    id            TEXT PRIMARY KEY,            -- uuid v4
    intervention  TEXT NOT NULL REFERENCES intervention(code),
    date          TEXT NOT NULL,               -- YYYY-MM-DD
    kind          TEXT NOT NULL CHECK (kind IN ('seminar', 'training', 'network', 'information', 'other')),
    women         INTEGER NOT NULL CHECK (women BETWEEN 0 AND 100000),
    men           INTEGER NOT NULL CHECK (men BETWEEN 0 AND 100000),
    unknown       INTEGER NOT NULL CHECK (unknown BETWEEN 0 AND 100000),
    organisations INTEGER CHECK (organisations IS NULL OR organisations BETWEEN 0 AND 100000),
    CHECK (women + men + unknown > 0)
) STRICT;
CREATE INDEX activity_by_intervention ON activity(intervention, date);

-- 3. Referrals (remisser, ansökningar). A referral precedes consent, so it
-- holds no personnummer and no fingerprint: gender, birth year,
-- municipality and referrer only. A decision `started` names the
-- enrolment it became; that enrolment's deletion (erasure, retention)
-- takes the referral with it, and a withdrawal re-keys both.
CREATE TABLE referral (
    id           TEXT PRIMARY KEY,             -- uuid v4
    intervention TEXT NOT NULL REFERENCES intervention(code),
    date         TEXT NOT NULL,
    gender       TEXT NOT NULL,
    birth_year   INTEGER,
    municipality TEXT,
    referrer     TEXT,
    decision     TEXT CHECK (decision IN ('started', 'declined', 'returned', 'withdrawn')),
    decided      TEXT,
    enrolment    TEXT REFERENCES enrolment(id) ON UPDATE CASCADE ON DELETE CASCADE,
    -- The start date of that enrolment, kept by the trigger below, so the
    -- wait from referral to start needs no look-up per referral.
    start_date   TEXT,
    CHECK ((decision IS NULL) = (decided IS NULL)),
    CHECK (decided IS NULL OR decided >= date),
    CHECK ((decision IS 'started') = (enrolment IS NOT NULL))
) STRICT;
-- Covering: a report counts a year's referrals from the index alone.
CREATE INDEX referral_by_intervention ON referral(intervention, date, referrer, municipality, gender, decision, decided, start_date);
CREATE TRIGGER referral_follows_start AFTER UPDATE OF start_date ON enrolment
BEGIN
    UPDATE referral SET start_date = NEW.start_date WHERE enrolment = NEW.id;
END;
CREATE UNIQUE INDEX referral_by_enrolment ON referral(enrolment) WHERE enrolment IS NOT NULL;

-- 4. Money: budget and actual cost per intervention and year, in whole
-- kronor. The actual cost is unknown (NULL) until the year is closed.
CREATE TABLE budget (
    intervention TEXT NOT NULL REFERENCES intervention(code),
    year         INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    budget       INTEGER NOT NULL CHECK (budget BETWEEN 0 AND 1000000000000),
    actual       INTEGER CHECK (actual IS NULL OR actual BETWEEN 0 AND 1000000000000),
    set_at       TEXT NOT NULL,
    PRIMARY KEY (intervention, year)
) STRICT;
