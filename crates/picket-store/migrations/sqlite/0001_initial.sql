-- Every table leads its primary key and indexes with tenant_id: no row exists outside a tenant.
-- WITHOUT ROWID where rows are mostly reached by key (one seek). Sensors keep a rowid: their
-- list pages walk secondary indexes, and a rowid fetch per row is cheaper than a key seek.

CREATE TABLE tenants (
    tenant_id       TEXT NOT NULL PRIMARY KEY,
    activation_mode TEXT NOT NULL DEFAULT 'manual',
    access_key      TEXT NOT NULL,
    created_at      TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sensors (
    tenant_id                 TEXT NOT NULL,
    id                        TEXT NOT NULL,
    created_date_time         TEXT NOT NULL,
    deployment_status         TEXT NOT NULL,
    display_name              TEXT NOT NULL COLLATE NOCASE,
    domain_name               TEXT NOT NULL COLLATE NOCASE,
    health_status             TEXT NOT NULL,
    open_health_issues_count  INTEGER NOT NULL DEFAULT 0,
    sensor_type               TEXT NOT NULL,
    service_status            TEXT NOT NULL,
    description               TEXT COLLATE NOCASE,
    dc_dns_names              TEXT NOT NULL DEFAULT '[]',
    is_delayed                INTEGER NOT NULL DEFAULT 0,
    version                   TEXT NOT NULL COLLATE NOCASE,
    fqdn                      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sensors_by_created ON sensors (tenant_id, created_date_time, id);
CREATE INDEX sensors_by_health ON sensors (tenant_id, health_status, created_date_time, id);
CREATE INDEX sensors_by_deployment ON sensors (tenant_id, deployment_status, created_date_time, id);
CREATE INDEX sensors_by_fqdn ON sensors (tenant_id, fqdn);

CREATE TABLE health_issues (
    tenant_id                    TEXT NOT NULL,
    id                           TEXT NOT NULL,
    additional_information       TEXT NOT NULL DEFAULT '[]',
    created_date_time            TEXT NOT NULL,
    description                  TEXT NOT NULL COLLATE NOCASE,
    display_name                 TEXT NOT NULL COLLATE NOCASE,
    domain_names                 TEXT NOT NULL DEFAULT '[]',
    health_issue_type            TEXT NOT NULL,
    issue_type_id                TEXT NOT NULL COLLATE NOCASE,
    last_modified_date_time      TEXT NOT NULL,
    recommendations              TEXT NOT NULL DEFAULT '[]',
    recommended_action_commands  TEXT NOT NULL DEFAULT '[]',
    sensor_dns_names             TEXT NOT NULL DEFAULT '[]',
    severity                     TEXT NOT NULL,
    status                       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX health_issues_by_created ON health_issues (tenant_id, created_date_time DESC, id);
CREATE INDEX health_issues_by_status ON health_issues (tenant_id, status, created_date_time DESC, id);

-- Which sensors (by lower-cased FQDN) an issue names: drives healthStatus and sensors/{id}/healthIssues.
CREATE TABLE health_issue_sensors (
    tenant_id    TEXT NOT NULL,
    sensor_fqdn  TEXT NOT NULL,
    issue_id     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sensor_fqdn, issue_id)
) WITHOUT ROWID;
CREATE INDEX health_issue_sensors_by_issue ON health_issue_sensors (tenant_id, issue_id);

CREATE TABLE sensor_candidates (
    tenant_id             TEXT NOT NULL,
    id                    TEXT NOT NULL,
    computer_dns_name     TEXT NOT NULL COLLATE NOCASE,
    last_seen_date_time   TEXT NOT NULL,
    sense_client_version  TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX sensor_candidates_by_name ON sensor_candidates (tenant_id, computer_dns_name, id);
