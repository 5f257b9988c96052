-- Visit records (annex 3, second part; R-VST-6). client_id is the UUID the
-- phone made when the form was filled, so a retried or duplicated
-- submission finds the first row instead of adding a second (DESIGN
-- "Nothing lost"). Findings are code words: good/fair/poor,
-- better/same/worse, safe/fairly_safe/unsafe; '' when not asked (calls).
CREATE TABLE visits (
    id              {{ID}},
    client_id       TEXT NOT NULL,
    elder_id        BIGINT NOT NULL REFERENCES elders (id),
    area_code       {{CODE}} NOT NULL,
    visitor_id      BIGINT REFERENCES visitors (id),
    recorded_by     BIGINT NOT NULL REFERENCES users (id),
    mode            TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    expression      TEXT NOT NULL DEFAULT '',
    mobility        TEXT NOT NULL DEFAULT '',
    mental          TEXT NOT NULL DEFAULT '',
    illness         TEXT NOT NULL DEFAULT '',
    illness_kind    TEXT NOT NULL DEFAULT '',
    house           TEXT NOT NULL DEFAULT '',
    gas             TEXT NOT NULL DEFAULT '',
    water_heating   TEXT NOT NULL DEFAULT '',
    electricity     TEXT NOT NULL DEFAULT '',
    hygiene         TEXT NOT NULL DEFAULT '',
    supporter       TEXT NOT NULL DEFAULT '',
    family_contact_on TEXT NOT NULL DEFAULT '',
    service_needs   TEXT NOT NULL DEFAULT '',
    hardships       TEXT NOT NULL DEFAULT '',
    needs           TEXT NOT NULL DEFAULT '',
    needs_response  TEXT NOT NULL DEFAULT '',
    problems        TEXT NOT NULL DEFAULT '',
    problems_kind   TEXT NOT NULL DEFAULT '',
    handling        TEXT NOT NULL DEFAULT '',
    education       TEXT NOT NULL DEFAULT '',
    -- Late (补录): entered more than the allowed delay after the visit.
    late            INTEGER NOT NULL DEFAULT 0,
    late_reason     TEXT NOT NULL DEFAULT '',
    -- When the phone saved the form, and when the server received it.
    recorded_at     TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    lat             DOUBLE PRECISION,
    lng             DOUBLE PRECISION,
    accuracy_m      DOUBLE PRECISION,
    distance_m      DOUBLE PRECISION,
    has_photo       INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL DEFAULT 1,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX visits_client_id ON visits (client_id);
CREATE INDEX visits_elder ON visits (elder_id, started_at);
CREATE INDEX visits_area ON visits (area_code, started_at);

-- One photo per visit, images only, kept in the database so that a backup
-- of the database is a backup of everything.
CREATE TABLE visit_photos (
    visit_id     BIGINT PRIMARY KEY REFERENCES visits (id),
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         {{BLOB}} NOT NULL,
    created_at   TEXT NOT NULL
);

-- Earlier versions of an edited visit: changes is JSON field -> {old, new}.
CREATE TABLE visit_versions (
    id        {{ID}},
    visit_id  BIGINT NOT NULL REFERENCES visits (id),
    version   INTEGER NOT NULL,
    at        TEXT NOT NULL,
    actor_id  BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    changes   TEXT NOT NULL,
    reason    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX visit_versions_visit ON visit_versions (visit_id, version);

-- The position of an elder's home, set by village staff from a visit made
-- there, so later home visits can show how far from it they were recorded.
CREATE TABLE elder_locations (
    elder_id   BIGINT PRIMARY KEY REFERENCES elders (id),
    lat        DOUBLE PRECISION NOT NULL,
    lng        DOUBLE PRECISION NOT NULL,
    visit_id   BIGINT,
    set_by     BIGINT NOT NULL,
    set_at     TEXT NOT NULL
);

-- Directory of service organisations that take referrals (R-USR-3, R-VST-5).
CREATE TABLE service_providers (
    id         {{ID}},
    area_code  {{CODE}} NOT NULL REFERENCES areas (code),
    name       TEXT NOT NULL,
    services   TEXT NOT NULL,
    contact    TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_by BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX service_providers_area ON service_providers (area_code);

-- Follow-up items (R-VST-1..5, R-EMG-4), owned by the elder's village and
-- escalated to the town, then the county, when overdue. source names the
-- finding that opened the item ("gas", "needs"), so the same finding on a
-- later visit adds to the open item instead of opening another.
CREATE TABLE followups (
    id             {{ID}},
    elder_id       BIGINT NOT NULL REFERENCES elders (id),
    area_code      {{CODE}} NOT NULL,
    visit_id       BIGINT REFERENCES visits (id),
    kind           TEXT NOT NULL,
    source         TEXT NOT NULL,
    severity       TEXT NOT NULL,
    status         TEXT NOT NULL,
    summary        TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    level          TEXT NOT NULL DEFAULT 'village',
    referred_type  TEXT NOT NULL DEFAULT '',
    referred_to    TEXT NOT NULL DEFAULT '',
    provider_id    BIGINT REFERENCES service_providers (id),
    resolved_at    TEXT,
    verified_at    TEXT,
    verify_visit_id BIGINT REFERENCES visits (id),
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX followups_elder ON followups (elder_id, status);
CREATE INDEX followups_area ON followups (area_code, status);
CREATE INDEX followups_due ON followups (status, due_at);

-- Every step of a follow-up with who and why; actor_id 0 is the system.
CREATE TABLE followup_events (
    id          {{ID}},
    followup_id BIGINT NOT NULL REFERENCES followups (id),
    at          TEXT NOT NULL,
    actor_id    BIGINT NOT NULL DEFAULT 0,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status   TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    visit_id    BIGINT
);
CREATE INDEX followup_events_item ON followup_events (followup_id, id);

-- Emergencies found on a visit (R-EMG-1): open until closed with the
-- handling, then kept as the archive.
CREATE TABLE emergencies (
    id          {{ID}},
    client_id   TEXT,
    elder_id    BIGINT NOT NULL REFERENCES elders (id),
    area_code   {{CODE}} NOT NULL,
    what        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    called      TEXT NOT NULL DEFAULT '',
    actions     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open',
    raised_by   BIGINT NOT NULL REFERENCES users (id),
    raised_at   TEXT NOT NULL,
    closed_by   BIGINT,
    closed_at   TEXT,
    handling    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX emergencies_client_id ON emergencies (client_id);
CREATE INDEX emergencies_area ON emergencies (status, area_code);

CREATE TABLE emergency_notes (
    id           {{ID}},
    emergency_id BIGINT NOT NULL REFERENCES emergencies (id),
    at           TEXT NOT NULL,
    actor_id     BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX emergency_notes_item ON emergency_notes (emergency_id, id);

-- Reminders to the first contact about the duty of support (R-VST-3, R-EMG-5).
CREATE TABLE family_reminders (
    id        {{ID}},
    elder_id  BIGINT NOT NULL REFERENCES elders (id),
    area_code {{CODE}} NOT NULL,
    at        TEXT NOT NULL,
    reason    TEXT NOT NULL,
    visit_id  BIGINT,
    actor_id  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX family_reminders_elder ON family_reminders (elder_id, at);

-- Settings of this part (due days, escalation, reminders, benefit rules) as
-- one JSON document; absent means the defaults.
CREATE TABLE visit_settings (
    id         INTEGER PRIMARY KEY,
    rules      TEXT NOT NULL,
    updated_by BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Where an area's notifications go besides the in-app inbox: a webhook
-- (body signed with HMAC-SHA256 under the sealed secret) or an e-mail address.
CREATE TABLE notify_endpoints (
    id         {{ID}},
    area_code  {{CODE}} NOT NULL REFERENCES areas (code),
    channel    TEXT NOT NULL,
    target     TEXT NOT NULL,
    secret_enc {{BLOB}},
    active     INTEGER NOT NULL DEFAULT 1,
    created_by BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notify_endpoints_area ON notify_endpoints (area_code, active);

-- The transactional outbox: rows are written in the transaction of the
-- event, then delivered by workers. A worker leases the rows it claims;
-- a row whose lease ran out (the worker died) is claimed again, so nothing
-- is lost, and receivers de-duplicate on the row id. to_enc holds a phone
-- number sealed (kind "phone"); to_masked is what pages show.
CREATE TABLE outbox (
    id          {{ID}},
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    area_code   {{CODE}} NOT NULL DEFAULT '',
    role        TEXT NOT NULL DEFAULT '',
    user_id     BIGINT,
    endpoint_id BIGINT REFERENCES notify_endpoints (id),
    to_enc      {{BLOB}},
    to_masked   TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    ref_type    TEXT NOT NULL DEFAULT '',
    ref_id      BIGINT NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     TEXT NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until TEXT NOT NULL DEFAULT '',
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_at);
CREATE INDEX outbox_ref ON outbox (ref_type, ref_id);

-- The in-app inbox, filled by the outbox worker: to one user, or to every
-- account of a role in an area.
CREATE TABLE inbox_messages (
    id         {{ID}},
    outbox_id  BIGINT NOT NULL REFERENCES outbox (id),
    area_code  {{CODE}} NOT NULL DEFAULT '',
    role       TEXT NOT NULL DEFAULT '',
    user_id    BIGINT,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX inbox_messages_outbox ON inbox_messages (outbox_id);
CREATE INDEX inbox_messages_area ON inbox_messages (area_code, role, id);
CREATE INDEX inbox_messages_user ON inbox_messages (user_id, id);
