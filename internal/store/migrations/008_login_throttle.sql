-- Failed logins for usernames that have no account: counted and locked
-- like real accounts, so the answers (401, then 423) do not tell anyone
-- which usernames exist.
CREATE TABLE login_throttle (
    username     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);
