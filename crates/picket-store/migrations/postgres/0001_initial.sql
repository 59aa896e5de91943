-- Every table leads its primary key and indexes with tenant_id: no row exists outside a tenant.
-- The same logical schema as migrations/sqlite: timestamps are TEXT in the format the SQLite
-- engine writes, JSON arrays are TEXT, booleans are 0/1 integers. Text is COLLATE "C" (bytewise,
-- as SQLite's BINARY); columns SQLite declares NOCASE are compared and indexed as lower(column),
-- which under "C" folds ASCII only, exactly as NOCASE does.

CREATE TABLE tenants (
    tenant_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    activation_mode TEXT COLLATE "C" NOT NULL DEFAULT 'manual',
    access_key      TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL
);

CREATE TABLE sensors (
    tenant_id                 TEXT COLLATE "C" NOT NULL,
    id                        TEXT COLLATE "C" NOT NULL,
    created_date_time         TEXT COLLATE "C" NOT NULL,
    deployment_status         TEXT COLLATE "C" NOT NULL,
    display_name              TEXT COLLATE "C" NOT NULL,
    domain_name               TEXT COLLATE "C" NOT NULL,
    health_status             TEXT COLLATE "C" NOT NULL,
    open_health_issues_count  BIGINT NOT NULL DEFAULT 0,
    sensor_type               TEXT COLLATE "C" NOT NULL,
    service_status            TEXT COLLATE "C" NOT NULL,
    description               TEXT COLLATE "C",
    dc_dns_names              TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    is_delayed                BIGINT NOT NULL DEFAULT 0,
    version                   TEXT COLLATE "C" NOT NULL,
    fqdn                      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sensors_by_created ON sensors (tenant_id, created_date_time, id);
CREATE INDEX sensors_by_health ON sensors (tenant_id, health_status, created_date_time, id);
CREATE INDEX sensors_by_deployment ON sensors (tenant_id, deployment_status, created_date_time, id);
CREATE INDEX sensors_by_fqdn ON sensors (tenant_id, fqdn);

CREATE TABLE health_issues (
    tenant_id                    TEXT COLLATE "C" NOT NULL,
    id                           TEXT COLLATE "C" NOT NULL,
    additional_information       TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_date_time            TEXT COLLATE "C" NOT NULL,
    description                  TEXT COLLATE "C" NOT NULL,
    display_name                 TEXT COLLATE "C" NOT NULL,
    domain_names                 TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    health_issue_type            TEXT COLLATE "C" NOT NULL,
    issue_type_id                TEXT COLLATE "C" NOT NULL,
    last_modified_date_time      TEXT COLLATE "C" NOT NULL,
    recommendations              TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    recommended_action_commands  TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    sensor_dns_names             TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    severity                     TEXT COLLATE "C" NOT NULL,
    status                       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX health_issues_by_created ON health_issues (tenant_id, created_date_time DESC, id);
CREATE INDEX health_issues_by_status ON health_issues (tenant_id, status, created_date_time DESC, id);

-- Which sensors (by lower-cased FQDN) an issue names: drives healthStatus and sensors/{id}/healthIssues.
CREATE TABLE health_issue_sensors (
    tenant_id    TEXT COLLATE "C" NOT NULL,
    sensor_fqdn  TEXT COLLATE "C" NOT NULL,
    issue_id     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, sensor_fqdn, issue_id)
);
CREATE INDEX health_issue_sensors_by_issue ON health_issue_sensors (tenant_id, issue_id);

CREATE TABLE sensor_candidates (
    tenant_id             TEXT COLLATE "C" NOT NULL,
    id                    TEXT COLLATE "C" NOT NULL,
    computer_dns_name     TEXT COLLATE "C" NOT NULL,
    last_seen_date_time   TEXT COLLATE "C" NOT NULL,
    sense_client_version  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sensor_candidates_by_name ON sensor_candidates (tenant_id, lower(computer_dns_name), id);
