-- Visitors (探访关爱服务人员, R-USR-2, R-TEAM): the people who visit. The
-- phone is sealed like the elders' (internal/pii) with a keyed hash for
-- look-up and a masked form for lists. user_id links an account with the
-- visitor role, so the visitor sees their own tasks.
CREATE TABLE visitors (
    id           {{ID}},
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    unit         TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    phone_enc    {{BLOB}},
    phone_hmac   TEXT NOT NULL DEFAULT '',
    phone_masked TEXT NOT NULL DEFAULT '',
    area_code    {{CODE}} NOT NULL REFERENCES areas (code),
    user_id      BIGINT REFERENCES users (id),
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX visitors_area ON visitors (area_code, id);
CREATE INDEX visitors_phone ON visitors (phone_hmac);
CREATE UNIQUE INDEX visitors_user ON visitors (user_id) WHERE user_id IS NOT NULL;

-- Teams per village (R-TEAM-1).
CREATE TABLE visitor_teams (
    id         {{ID}},
    area_code  {{CODE}} NOT NULL REFERENCES areas (code),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX visitor_teams_area ON visitor_teams (area_code, id);

CREATE TABLE visitor_team_members (
    team_id    BIGINT NOT NULL REFERENCES visitor_teams (id),
    visitor_id BIGINT NOT NULL REFERENCES visitors (id),
    PRIMARY KEY (team_id, visitor_id)
);
CREATE INDEX visitor_team_members_visitor ON visitor_team_members (visitor_id);

-- Fixed pairing (结对, R-TEAM-1): one current primary and at most one current
-- backup per elder. Nothing is deleted: re-pairing ends the current row
-- (ended_at, ended_by, end_reason), so who was responsible when stays true.
CREATE TABLE pairings (
    id         {{ID}},
    elder_id   BIGINT NOT NULL REFERENCES elders (id),
    visitor_id BIGINT NOT NULL REFERENCES visitors (id),
    role       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_by BIGINT NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL DEFAULT '',
    ended_at   TEXT NOT NULL DEFAULT '',
    ended_by   BIGINT NOT NULL DEFAULT 0,
    end_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX pairings_current ON pairings (elder_id, role) WHERE ended_at = '';
CREATE INDEX pairings_elder ON pairings (elder_id, id);
CREATE INDEX pairings_visitor ON pairings (visitor_id, ended_at);

-- A county's own weekly frequency rules (schedule.Rules as JSON); counties
-- without a row use the provincial defaults.
CREATE TABLE plan_rules (
    county_code {{CODE}} PRIMARY KEY REFERENCES areas (code),
    rules       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  BIGINT NOT NULL DEFAULT 0
);

-- Campaigns raise the requirement of an area for a period (R-FRQ-5,
-- R-EMG-2, R-EMG-3): extra contacts or home visits turned into calls for
-- the weeks overlapping starts_on..ends_on, and/or a deadline: every
-- elder reached contacted deadline_times times between deadline_from and
-- deadline_due. classes is a comma list, '' for all.
CREATE TABLE campaigns (
    id             {{ID}},
    name           TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    area_code      {{CODE}} NOT NULL REFERENCES areas (code),
    area_prefix    {{CODE}} NOT NULL,
    classes        TEXT NOT NULL DEFAULT '',
    starts_on      TEXT NOT NULL DEFAULT '',
    ends_on        TEXT NOT NULL DEFAULT '',
    add_home       INTEGER NOT NULL DEFAULT 0,
    add_call       INTEGER NOT NULL DEFAULT 0,
    home_to_call   INTEGER NOT NULL DEFAULT 0,
    deadline_from  TEXT NOT NULL DEFAULT '',
    deadline_due   TEXT NOT NULL DEFAULT '',
    deadline_modes TEXT NOT NULL DEFAULT '',
    deadline_times INTEGER NOT NULL DEFAULT 0,
    created_by     BIGINT NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
CREATE INDEX campaigns_due ON campaigns (deadline_due);
CREATE INDEX campaigns_period ON campaigns (ends_on);

-- Completed contacts counted toward a campaign's deadline, kept up to date
-- by plan.ApplyContact; each record counts (一天两见面).
CREATE TABLE campaign_contacts (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    elder_id    BIGINT NOT NULL,
    contacts    INTEGER NOT NULL,
    first_at    TEXT NOT NULL,
    PRIMARY KEY (campaign_id, elder_id)
);

-- The rollups below are derived data, kept in the transaction of each visit
-- (plan.ApplyContact) and by plan.EnsureWeek; they carry no foreign keys so
-- that a week of a million elders is written quickly.

-- Notes explaining a requirement ("未同意上门探访，上门改为电话"), stored
-- once and referenced by id from each elder-week.
CREATE TABLE plan_notes (
    id   {{ID}},
    text TEXT NOT NULL UNIQUE
);

-- One row per elder and ISO week ('2026-W49'). planned = 1 once the week
-- was drawn up for an in-scope elder: class, primary visitor and the
-- requirement are then fixed for the class (a change applies next week).
-- home_days and call_days are bitmasks of the days (bit 0 Monday) with a
-- completed contact of the kind, so two contacts of one kind on one
-- Shanghai day count once; late_*_days mark the days whose only records of
-- the kind are late. done_* and late_* count those bits.
-- progress: 0 no on-time contact, 1 some but not met, 2 met (on-time only).
-- in_scope = 1 when planned and owed at least one contact.
CREATE TABLE plan_weeks (
    week            TEXT NOT NULL,
    elder_id        BIGINT NOT NULL,
    area_code       {{CODE}} NOT NULL,
    class           TEXT NOT NULL DEFAULT '',
    visitor_id      BIGINT NOT NULL DEFAULT 0,
    planned         INTEGER NOT NULL DEFAULT 0,
    req_home        INTEGER NOT NULL DEFAULT 0,
    req_call        INTEGER NOT NULL DEFAULT 0,
    home_for_call   INTEGER NOT NULL DEFAULT 0,
    notes_id        BIGINT NOT NULL DEFAULT 0,
    home_days       INTEGER NOT NULL DEFAULT 0,
    call_days       INTEGER NOT NULL DEFAULT 0,
    late_home_days  INTEGER NOT NULL DEFAULT 0,
    late_call_days  INTEGER NOT NULL DEFAULT 0,
    done_home       INTEGER NOT NULL DEFAULT 0,
    done_call       INTEGER NOT NULL DEFAULT 0,
    late_home       INTEGER NOT NULL DEFAULT 0,
    late_call       INTEGER NOT NULL DEFAULT 0,
    progress        INTEGER NOT NULL DEFAULT 0,
    in_scope        INTEGER NOT NULL DEFAULT 0,
    last_contact_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (week, elder_id)
);
-- Each compliance figure of an area is the size of one range of this index
-- (week, in scope, class, progress, area code range), so figures never
-- touch the rows and cost no sort.
CREATE INDEX plan_weeks_area ON plan_weeks (week, in_scope, class, progress, area_code);
CREATE INDEX plan_weeks_visitor ON plan_weeks (visitor_id, week);

-- One row per elder and calendar month for the monthly visit rate
-- (月探访率, DOMAIN §6): in_scope once some week of the month owed the
-- elder a contact; contacted once a completed contact was recorded; days
-- is a bitmask of them (bit 2*(day-1) home, 2*(day-1)+1 call).
CREATE TABLE plan_months (
    month           TEXT NOT NULL,
    elder_id        BIGINT NOT NULL,
    area_code       {{CODE}} NOT NULL,
    class           TEXT NOT NULL DEFAULT '',
    in_scope        INTEGER NOT NULL DEFAULT 0,
    contacted       INTEGER NOT NULL DEFAULT 0,
    days            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, elder_id)
);
CREATE INDEX plan_months_area ON plan_months (month, in_scope, class, contacted, area_code);

-- Weeks drawn up, so that reads know whether to draw up the current week.
CREATE TABLE plan_week_runs (
    week         TEXT PRIMARY KEY,
    planned_at   TEXT NOT NULL,
    refreshed_at TEXT NOT NULL
);
