-- Areas: the official 12-digit statistical division codes (and 15-digit grid
-- codes below villages). Retired units stay, so history keeps its names.
CREATE TABLE areas (
    code        {{CODE}} PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code {{CODE}},
    retired_at  TEXT,
    source      TEXT NOT NULL DEFAULT 'nbs2023',
    updated_at  TEXT NOT NULL
);
CREATE INDEX areas_parent ON areas (parent_code, code);

CREATE TABLE area_changes (
    id          {{ID}},
    code        {{CODE}} NOT NULL REFERENCES areas (code),
    at          TEXT NOT NULL,
    actor_id    BIGINT,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX area_changes_code ON area_changes (code, id);

CREATE TABLE users (
    id                  {{ID}},
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL,
    area_code           {{CODE}} NOT NULL REFERENCES areas (code),
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    password_changed_at TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL
);

-- Sessions for pages (cookie) and the API (bearer token). Only a hash of the
-- secret is stored, so a copy of the database does not let anyone log in.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Append-only audit log; each row carries the hash of the previous one.
CREATE TABLE audit_log (
    id          {{ID}},
    at          TEXT NOT NULL,
    actor_id    BIGINT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    area_code   {{CODE}} NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

-- The head of the chain, one row, locked by each append so concurrent
-- writers (several app servers on PostgreSQL) cannot fork the chain.
CREATE TABLE audit_head (
    id      INTEGER PRIMARY KEY,
    last_id BIGINT NOT NULL,
    hash    TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, hash) VALUES (1, 0, '');
