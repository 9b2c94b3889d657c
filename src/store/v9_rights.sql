-- Migration 9: participants' rights and the register's records (issue 17,
-- SPEC section 15). Never edited once released.
--
-- A period's report as published: every figure, in both languages, as the
-- JSON of `report::Report` (version 1), with when and by whom. A period
-- may be published again (`publish --force`); every version is kept and
-- the newest is the one `report` compares against.
CREATE TABLE published (
    id           INTEGER PRIMARY KEY,
    period_from  TEXT NOT NULL,
    period_to    TEXT NOT NULL CHECK (period_to >= period_from),
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    format       INTEGER NOT NULL CHECK (format = 1),
    report_sv    TEXT NOT NULL,
    report_en    TEXT NOT NULL
) STRICT;
CREATE INDEX published_period ON published(period_from, period_to);

-- Audit entries older than the retention period, reduced to counts by
-- `purge`: how many entries of an action an actor made in a month.
CREATE TABLE audit_count (
    month  TEXT NOT NULL,                 -- YYYY-MM (UTC)
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    count  INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (month, actor, action)
) STRICT;

-- The audit trail stays append-only, except that `purge` may reduce old
-- entries to counts: it marks its own transaction with this row (and
-- removes the mark before committing), and only then does the trigger let
-- a delete through. Updates stay refused always.
CREATE TABLE audit_reduction (
    active INTEGER PRIMARY KEY CHECK (active = 1)
) STRICT;
DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN NOT EXISTS (SELECT 1 FROM audit_reduction)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
