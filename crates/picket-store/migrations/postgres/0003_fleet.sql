-- The living fleet: what Picket hears from each enrolled sensor, and which health issues its
-- own rules raised for it. Keyed by tenant first like every tenant table.

CREATE TABLE sensor_agents (
    tenant_id                 TEXT COLLATE "C" NOT NULL,
    sensor_id                 TEXT COLLATE "C" NOT NULL,
    computer_dns_name         TEXT COLLATE "C" NOT NULL,
    credential_hash           TEXT COLLATE "C" NOT NULL,
    enrolled_at               TEXT COLLATE "C" NOT NULL,
    last_seen                 TEXT COLLATE "C",
    last_config_pull          TEXT COLLATE "C",
    reported_service          TEXT COLLATE "C",
    desired_settings_version  BIGINT NOT NULL DEFAULT 1,
    applied_settings_version  BIGINT NOT NULL DEFAULT 0,
    update_state              TEXT COLLATE "C" NOT NULL DEFAULT 'idle',
    update_target             TEXT COLLATE "C",
    update_since              TEXT COLLATE "C",
    reported_issues           TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    dc_exists                 BIGINT NOT NULL DEFAULT 1,
    deleted_at                TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, sensor_id)
);
CREATE UNIQUE INDEX sensor_agents_by_computer ON sensor_agents (tenant_id, lower(computer_dns_name));

CREATE TABLE agent_issues (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    sensor_id   TEXT COLLATE "C" NOT NULL,
    issue_key   TEXT COLLATE "C" NOT NULL,
    issue_id    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, sensor_id, issue_key)
);
