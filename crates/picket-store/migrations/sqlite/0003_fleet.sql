-- The living fleet: what Picket hears from each enrolled sensor, and which health issues its
-- own rules raised for it. Keyed by tenant first like every tenant table.

CREATE TABLE sensor_agents (
    tenant_id                 TEXT NOT NULL,
    sensor_id                 TEXT NOT NULL,
    computer_dns_name         TEXT NOT NULL COLLATE NOCASE,
    credential_hash           TEXT NOT NULL,
    enrolled_at               TEXT NOT NULL,
    last_seen                 TEXT,
    last_config_pull          TEXT,
    reported_service          TEXT,
    desired_settings_version  INTEGER NOT NULL DEFAULT 1,
    applied_settings_version  INTEGER NOT NULL DEFAULT 0,
    update_state              TEXT NOT NULL DEFAULT 'idle',
    update_target             TEXT,
    update_since              TEXT,
    reported_issues           TEXT NOT NULL DEFAULT '[]',
    dc_exists                 INTEGER NOT NULL DEFAULT 1,
    deleted_at                TEXT,
    PRIMARY KEY (tenant_id, sensor_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX sensor_agents_by_computer ON sensor_agents (tenant_id, computer_dns_name);

CREATE TABLE agent_issues (
    tenant_id   TEXT NOT NULL,
    sensor_id   TEXT NOT NULL,
    issue_key   TEXT NOT NULL,
    issue_id    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sensor_id, issue_key)
) WITHOUT ROWID;
