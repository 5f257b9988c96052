-- Classes A/B/C (R-CLS-1..4) and the GB/T 42195-2022 ability assessment
-- (DOMAIN §1). The class is derived: internal/classes recomputes it in the
-- transaction of every write that changes a fact, and a daily job catches
-- age crossings (class_next_check). `class` is what the rest of the system
-- reads: the county's override when there is one, else the computed class.
ALTER TABLE elders ADD COLUMN class_computed TEXT NOT NULL DEFAULT '';
-- JSON [{"rule","text"}] of the computed class.
ALTER TABLE elders ADD COLUMN class_reasons TEXT NOT NULL DEFAULT '[]';
-- JSON of the facts the computation read, so a result can be checked later.
ALTER TABLE elders ADD COLUMN class_facts TEXT NOT NULL DEFAULT '';
ALTER TABLE elders ADD COLUMN class_rule_set_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE elders ADD COLUMN class_settings_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE elders ADD COLUMN class_computed_at TEXT NOT NULL DEFAULT '';
-- The next day the class may change by age alone ('' none). Files that
-- were never classified are due at once, so the daily job picks them up.
ALTER TABLE elders ADD COLUMN class_next_check TEXT NOT NULL DEFAULT '0001-01-01';
-- The other elder of the household whose file the computation read, so a
-- change to that file (or leaving the household) recomputes this one.
ALTER TABLE elders ADD COLUMN class_partner_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE elders ADD COLUMN class_override TEXT NOT NULL DEFAULT '';
ALTER TABLE elders ADD COLUMN class_override_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE elders ADD COLUMN class_override_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE elders ADD COLUMN class_override_at TEXT NOT NULL DEFAULT '';
-- Set when facts change under an override, cleared when a county account
-- confirms or removes it.
ALTER TABLE elders ADD COLUMN override_review_needed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX elders_class_next_check ON elders (class_next_check);
CREATE INDEX elders_class_partner ON elders (class_partner_id);

-- Every change of an elder's class or of its reasons, and every override,
-- nothing deleted. cause names what set it off: created, updated, status,
-- transferred, partner, assessment, daily, rules, override, override_removed.
CREATE TABLE class_history (
    id               {{ID}},
    elder_id         BIGINT NOT NULL REFERENCES elders (id),
    at               TEXT NOT NULL,
    cause            TEXT NOT NULL,
    actor_id         BIGINT NOT NULL DEFAULT 0,
    old_class        TEXT NOT NULL DEFAULT '',
    new_class        TEXT NOT NULL DEFAULT '',
    computed         TEXT NOT NULL DEFAULT '',
    reasons          TEXT NOT NULL DEFAULT '[]',
    facts            TEXT NOT NULL DEFAULT '',
    rule_set_version INTEGER NOT NULL DEFAULT 0,
    settings_version INTEGER NOT NULL DEFAULT 0,
    note             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX class_history_elder ON class_history (elder_id, id);

-- Versioned county settings, nothing overwritten: kind 'class_rules' holds
-- a classify.CRuleSet's rules (R-CLS-3), kind 'assessment' the
-- assess.Settings of DOMAIN §1.4 and §1.5. A county without a row uses the
-- defaults, which count as version 1.
CREATE TABLE county_settings (
    kind        TEXT NOT NULL,
    county_code {{CODE}} NOT NULL REFERENCES areas (code),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_by  BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (kind, county_code, version)
);

-- Every ability assessment (DOMAIN §1), kept as history. items is JSON of
-- the 26 scores by item code; settings the assess.Settings that applied;
-- result the full assess.Result (indicator sums, grounds, setting notes).
CREATE TABLE assessments (
    id               {{ID}},
    elder_id         BIGINT NOT NULL REFERENCES elders (id),
    reason           TEXT NOT NULL,
    assessor         TEXT NOT NULL,
    assessed_on      TEXT NOT NULL,
    items            TEXT NOT NULL,
    coma             INTEGER NOT NULL DEFAULT 0,
    dementia         INTEGER NOT NULL DEFAULT 0,
    mental_disorder  INTEGER NOT NULL DEFAULT 0,
    risk_events      TEXT NOT NULL,
    settings         TEXT NOT NULL,
    settings_version INTEGER NOT NULL,
    total            INTEGER NOT NULL,
    initial_level    INTEGER NOT NULL,
    final_level      INTEGER NOT NULL,
    body_label       TEXT NOT NULL DEFAULT '',
    result           TEXT NOT NULL,
    created_by       BIGINT NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);
CREATE INDEX assessments_elder ON assessments (elder_id, assessed_on, id);
