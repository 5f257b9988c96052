-- The elder's file (一户一档, R-OBJ-3, R-REC): one row per person. ID,
-- phone and certificate numbers are stored only sealed (AES-256-GCM, see
-- internal/pii) with a masked form beside them for lists and a keyed hash
-- (HMAC) for exact look-up; nothing here holds such a number in clear.
-- Multi-choice answers are comma-separated code words; amounts are in fen
-- (NULL = not asked, 0 = none); dates are 'YYYY-MM-DD', '' when unknown.
CREATE TABLE elders (
    id                         {{ID}},
    name                       TEXT NOT NULL,
    gender                     TEXT NOT NULL,
    birth_date                 TEXT NOT NULL,
    birth_day_assumed          INTEGER NOT NULL DEFAULT 0,
    id_enc                     {{BLOB}} NOT NULL,
    id_hmac                    TEXT NOT NULL,
    id_masked                  TEXT NOT NULL,
    phone_enc                  {{BLOB}},
    phone_hmac                 TEXT NOT NULL DEFAULT '',
    phone_masked               TEXT NOT NULL DEFAULT '',
    area_code                  {{CODE}} NOT NULL REFERENCES areas (code),
    address                    TEXT NOT NULL DEFAULT '',
    at_registered_residence    INTEGER,
    living_situation           TEXT NOT NULL DEFAULT '',
    body_conditions            TEXT NOT NULL DEFAULT '',
    diseases                   TEXT NOT NULL DEFAULT '',
    economic_status            TEXT NOT NULL DEFAULT '',
    family_planning_special    INTEGER NOT NULL DEFAULT 0,
    left_behind                INTEGER NOT NULL DEFAULT 0,
    partner_condition          TEXT NOT NULL DEFAULT '',
    cares_for_child_condition  TEXT NOT NULL DEFAULT '',
    disability_cert_enc        {{BLOB}},
    disability_cert_masked     TEXT NOT NULL DEFAULT '',
    disability_category        INTEGER NOT NULL DEFAULT 0,
    disability_grade           INTEGER NOT NULL DEFAULT 0,
    pension_fen                BIGINT,
    assistance_fen             BIGINT,
    subsidy_fen                BIGINT,
    -- R-REC-2: a child first; if none can be reached a near relative; if
    -- there is none, a village contact.
    first_contact_name         TEXT NOT NULL DEFAULT '',
    first_contact_relation     TEXT NOT NULL DEFAULT '',
    first_contact_phone_enc    {{BLOB}},
    first_contact_phone_masked TEXT NOT NULL DEFAULT '',
    first_contact_address      TEXT NOT NULL DEFAULT '',
    first_contact_reachable    INTEGER NOT NULL DEFAULT 1,
    village_contact_name       TEXT NOT NULL DEFAULT '',
    village_contact_phone_enc  {{BLOB}},
    village_contact_phone_masked TEXT NOT NULL DEFAULT '',
    -- Willingness to be visited: NULL not asked, 1 yes, 0 no.
    willing                    INTEGER,
    decline_reason             TEXT NOT NULL DEFAULT '',
    consent_signer             TEXT NOT NULL DEFAULT '',
    consent_signed_on          TEXT NOT NULL DEFAULT '',
    consent_home               INTEGER NOT NULL DEFAULT 0,
    consent_home_for_call      INTEGER NOT NULL DEFAULT 0,
    help_channels              TEXT NOT NULL DEFAULT '',
    help_channels_other        TEXT NOT NULL DEFAULT '',
    measures                   TEXT NOT NULL DEFAULT '',
    collector                  TEXT NOT NULL DEFAULT '',
    collected_on               TEXT NOT NULL DEFAULT '',
    -- Elders who live together (a couple) share the id of one of them.
    household_id               BIGINT NOT NULL DEFAULT 0,
    status                     TEXT NOT NULL DEFAULT 'active',
    status_from                TEXT NOT NULL DEFAULT '',
    status_to                  TEXT NOT NULL DEFAULT '',
    status_reason              TEXT NOT NULL DEFAULT '',
    -- 0 once deceased or moved out: the ID number may then hold a new file.
    active                     INTEGER NOT NULL DEFAULT 1,
    class                      TEXT NOT NULL DEFAULT '',
    incomplete                 INTEGER NOT NULL DEFAULT 1,
    version                    INTEGER NOT NULL DEFAULT 1,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
);
-- One active file per ID number in the whole system.
CREATE UNIQUE INDEX elders_id_hmac_active ON elders (id_hmac) WHERE active = 1;
CREATE INDEX elders_id_hmac ON elders (id_hmac);
CREATE INDEX elders_phone_hmac ON elders (phone_hmac);
CREATE INDEX elders_area ON elders (area_code, id);
CREATE INDEX elders_household ON elders (household_id);

-- Every change to a file, nothing deleted. changes is JSON of
-- field -> {"old", "new"} with personal numbers masked. area_code is where
-- the file was after the change; from_area_code is set on transfers, so
-- both areas see the move in their monthly list (按月更新).
CREATE TABLE elder_versions (
    id             {{ID}},
    elder_id       BIGINT NOT NULL REFERENCES elders (id),
    version        INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    at             TEXT NOT NULL,
    actor_id       BIGINT NOT NULL DEFAULT 0,
    actor          TEXT NOT NULL DEFAULT '',
    area_code      {{CODE}} NOT NULL,
    from_area_code {{CODE}} NOT NULL DEFAULT '',
    changes        TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX elder_versions_elder ON elder_versions (elder_id, version);
CREATE INDEX elder_versions_at ON elder_versions (at);

CREATE TABLE elder_transfers (
    id             {{ID}},
    elder_id       BIGINT NOT NULL REFERENCES elders (id),
    from_area_code {{CODE}} NOT NULL REFERENCES areas (code),
    to_area_code   {{CODE}} NOT NULL REFERENCES areas (code),
    at             TEXT NOT NULL,
    actor_id       BIGINT NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL
);
CREATE INDEX elder_transfers_elder ON elder_transfers (elder_id, id);
