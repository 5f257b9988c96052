-- Dashboards and reports (R-OVS-1, R-OVS-2, R-AREA-2, R-OBJ-3). The
-- report_* snapshot tables are derived data that internal/reports rebuilds
-- from the plan's rollups and the registry; they hold one row per area at
-- every level (city, county, town, village), so a city dashboard reads a
-- few dozen rows however many elders and visits there are. No foreign
-- keys: a rebuild writes thousands of rows at once.

-- Files as of the last refresh (period 'current' in report_runs): dim is
-- 'files' (item 'active'), 'class' (A, B, C, none, '' unclassified),
-- 'status' or 'incomplete' (item '1'); active files only.
CREATE TABLE report_counts (
    area_code {{CODE}} NOT NULL,
    dim       TEXT NOT NULL,
    item      TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (area_code, dim, item)
);

-- One ISO week of plan_weeks summed per area and class. planned: elders
-- drawn up; paired: of those, with a primary visitor; in_scope: owing at
-- least one contact; met and partial as plan_weeks.progress 2 and 1 among
-- in_scope; home, calls: days with a completed contact of the kind, late
-- ones included; late: days whose only records were late.
CREATE TABLE report_weeks (
    week      TEXT NOT NULL,
    area_code {{CODE}} NOT NULL,
    class     TEXT NOT NULL,
    planned   INTEGER NOT NULL,
    paired    INTEGER NOT NULL,
    in_scope  INTEGER NOT NULL,
    met       INTEGER NOT NULL,
    partial   INTEGER NOT NULL,
    home      INTEGER NOT NULL,
    calls     INTEGER NOT NULL,
    late      INTEGER NOT NULL,
    PRIMARY KEY (week, area_code, class)
);

-- The same per primary visitor and village, for a village's drill-down.
CREATE TABLE report_visitor_weeks (
    week       TEXT NOT NULL,
    area_code  {{CODE}} NOT NULL,
    visitor_id BIGINT NOT NULL,
    class      TEXT NOT NULL,
    planned    INTEGER NOT NULL,
    in_scope   INTEGER NOT NULL,
    met        INTEGER NOT NULL,
    partial    INTEGER NOT NULL,
    home       INTEGER NOT NULL,
    calls      INTEGER NOT NULL,
    PRIMARY KEY (week, area_code, visitor_id, class)
);

-- One calendar month of plan_months per area and class: the monthly visit
-- rate's terms (DOMAIN §6) and the days with a completed contact.
CREATE TABLE report_months (
    month        TEXT NOT NULL,
    area_code    {{CODE}} NOT NULL,
    class        TEXT NOT NULL,
    in_scope     INTEGER NOT NULL,
    contacted    INTEGER NOT NULL,
    contact_days INTEGER NOT NULL,
    PRIMARY KEY (month, area_code, class)
);

-- When each snapshot was taken: 'current' for report_counts, a week
-- ('2026-W49') or a month ('2026-12') for the others.
CREATE TABLE report_runs (
    period      TEXT PRIMARY KEY,
    computed_at TEXT NOT NULL
);

-- A closed period (结账): the report as it was sent, frozen as JSON. Later
-- changes to the data never alter it; they become report_corrections.
CREATE TABLE report_closes (
    area_code {{CODE}} NOT NULL REFERENCES areas (code),
    period    TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    closed_by BIGINT NOT NULL,
    closer    TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (area_code, period)
);

-- A figure of a closed period found different after the close (a late
-- visit, a follow-up reopened): what was reported, what it was before this
-- finding, and what it is now. Nothing is deleted.
CREATE TABLE report_corrections (
    id        {{ID}},
    area_code {{CODE}} NOT NULL,
    period    TEXT NOT NULL,
    item      TEXT NOT NULL,
    label     TEXT NOT NULL,
    reported  INTEGER NOT NULL,
    previous  INTEGER NOT NULL,
    value     INTEGER NOT NULL,
    found_at  TEXT NOT NULL
);
CREATE INDEX report_corrections_period ON report_corrections (area_code, period, id);

-- The editable text of an area's written progress report (R-OVS-1), as
-- JSON of section -> text; the figures around it are generated.
CREATE TABLE report_texts (
    area_code  {{CODE}} NOT NULL REFERENCES areas (code),
    period     TEXT NOT NULL,
    sections   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by BIGINT NOT NULL,
    PRIMARY KEY (area_code, period)
);

-- Covers the file counts by area, class and status, so a refresh reads
-- the index and not the wide rows.
CREATE INDEX elders_report ON elders (active, area_code, class, status, incomplete);

-- The open follow-ups of an area for its dashboard: a range per status,
-- holding every column the dashboard counts by.
CREATE INDEX followups_open ON followups (status, area_code, kind, severity, due_at, created_at);
