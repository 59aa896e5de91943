-- A tenant's settings beyond the activation mode and access key, one row per setting, so a new
-- setting needs no migration of its own (e.g. autoAuditing: automatic auditing configuration).
CREATE TABLE tenant_settings (
    tenant_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
