-- Imports of Excel/CSV files (issue 7, R-OBJ-3, R-OBJ-4): who took in which
-- file (by SHA-256) into which area, and what came of it. A checked file
-- (dry run) is kept sealed for a day so its uploader can confirm it
-- without sending it again; the problems found are kept sealed for the
-- problem list download. Nothing here holds a personal number in clear.
CREATE TABLE imports (
    id           {{ID}},
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    area_code    {{CODE}} NOT NULL,
    file_name    TEXT NOT NULL DEFAULT '',
    file_sha256  TEXT NOT NULL,
    file_size    BIGINT NOT NULL,
    row_count    INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    file_enc     {{BLOB}},
    report_enc   {{BLOB}},
    created_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX imports_area ON imports (area_code, id);
CREATE INDEX imports_kept ON imports (created_at) WHERE file_enc IS NOT NULL;
