-- Migration 7: e-ID sign-in through OpenID Connect (issue 15, SPEC 11).
-- Never edited once released.
--
-- A user's e-ID: the identity provider (issuer) and the subject it asserts,
-- kept only as argon2id("sustrack e-ID", NUL, issuer, NUL, sub) under the
-- database's salt and parameters, as a participant's personnummer is:
-- sign-in needs equality and nothing else, and a broker's `sub` may be a
-- personnummer. The name the
-- provider asserted is kept so the admin who confirms the binding sees
-- whom the e-ID belongs to. A binding made through an enrolment link waits
-- (confirmed_at NULL) until an admin confirms it; only a confirmed binding
-- signs in. One e-ID per user and one user per e-ID.
CREATE TABLE user_identity (
    user_id      INTEGER NOT NULL UNIQUE REFERENCES app_user(id) ON DELETE CASCADE,
    subject_hash BLOB NOT NULL UNIQUE CHECK (length(subject_hash) = 32),
    issuer       TEXT NOT NULL CHECK (length(issuer) BETWEEN 1 AND 300),
    name         TEXT CHECK (name IS NULL OR length(name) <= 200),
    acr          TEXT CHECK (acr IS NULL OR length(acr) <= 200),
    asserted_at  TEXT NOT NULL,
    confirmed_at TEXT,
    confirmed_by TEXT
) STRICT;
