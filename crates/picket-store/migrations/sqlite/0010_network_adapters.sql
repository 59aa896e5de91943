-- The network adapters each sensor reports (sensorSettings.networkAdapters, spec §7.1): one
-- document per sensor, replaced when the sensor reports a change or an operator turns an
-- adapter's capture on or off.
CREATE TABLE network_adapters (
    tenant_id   TEXT NOT NULL,
    sensor_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sensor_id)
);
