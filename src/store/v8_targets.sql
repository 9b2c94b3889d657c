-- Migration 8: the report figures the förbund print (issue 16, SPEC 12).
-- Never edited once released.
--
-- A year's target for one indicator: for an intervention, or (intervention
-- NULL) the förbund's own target for the report's total row ("Årets mål
-- var 4 av 10"). A year's target overrides the intervention's standing one.
CREATE TABLE target (
    intervention TEXT REFERENCES intervention(code),
    year         INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 9999),
    indicator    TEXT NOT NULL CHECK (length(indicator) BETWEEN 1 AND 40),
    share        REAL NOT NULL CHECK (share BETWEEN 0 AND 1),
    set_at       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX target_key ON target(ifnull(intervention, ''), year, indicator);

-- A förbund-defined indicator: success is an exit outcome in `outcomes`
-- (comma-separated outcome codes), the population is every exit.
CREATE TABLE indicator_def (
    id         TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 40),
    outcomes   TEXT NOT NULL CHECK (length(outcomes) BETWEEN 1 AND 400),
    label_sv   TEXT NOT NULL CHECK (length(label_sv) BETWEEN 1 AND 120),
    label_en   TEXT NOT NULL CHECK (length(label_en) BETWEEN 1 AND 120),
    target     REAL CHECK (target IS NULL OR target BETWEEN 0 AND 1),
    created_at TEXT NOT NULL
) STRICT;
