-- Moves of classic sensors to the unified sensor (beta sensorMigration, spec §7.2): one
-- document per sensor that was asked to migrate, with where it stands.
CREATE TABLE sensor_migrations (
    tenant_id   TEXT NOT NULL,
    sensor_id   TEXT NOT NULL,
    state       TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sensor_id)
);
