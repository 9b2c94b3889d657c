-- Migration 4: the server's users, roles, grants, enrolment links and
-- sessions (SPEC section 11). Never edited once released.
--
-- No secret is stored in clear that would let someone sign in elsewhere:
-- passwords are argon2id PHC strings, enrolment links and session ids are
-- stored as BLAKE2b hashes. The TOTP secret must be kept to check codes;
-- whoever holds this file holds the register anyway.

CREATE TABLE app_user (
    id              INTEGER PRIMARY KEY,
    login           TEXT NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 64),
    name            TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 120),
    password_hash   TEXT,                 -- argon2id PHC string; NULL until enrolled
    totp_secret     BLOB CHECK (totp_secret IS NULL OR length(totp_secret) >= 16),  -- NULL until enrolled
    totp_last_step  INTEGER NOT NULL DEFAULT 0,  -- a code is accepted once: steps must grow
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,                 -- UTC, RFC 3339
    demo            INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1)),  -- serve --demo only: password alone
    created_at      TEXT NOT NULL
) STRICT;

CREATE TABLE user_role (
    user_id INTEGER NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'staff', 'auditor')),
    PRIMARY KEY (user_id, role)
) STRICT;

CREATE TABLE user_grant (
    user_id      INTEGER NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    intervention TEXT NOT NULL REFERENCES intervention(code),
    PRIMARY KEY (user_id, intervention)
) STRICT;

-- Times are UTC RFC 3339 text at second precision (2025-01-31T08:00:00Z),
-- fixed width so that they compare as text.
--
-- A one-time enrolment link: the token's hash, the TOTP secret offered on
-- the enrolment page (so a reload shows the same QR code), and its expiry.
CREATE TABLE enrol_token (
    token_hash  BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     INTEGER NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    totp_secret BLOB NOT NULL CHECK (length(totp_secret) >= 16),
    expires_at  TEXT NOT NULL
) STRICT;
CREATE INDEX enrol_token_user ON enrol_token(user_id);

CREATE TABLE session (
    id_hash     BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id     INTEGER NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL
) STRICT;
CREATE INDEX session_user ON session(user_id);
