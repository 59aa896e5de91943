-- Identity accounts (spec §7.4), kept as Graph JSON documents: they are read whole and
-- filtered in memory (picket_odata::eval), written one identity at a time.
CREATE TABLE identity_accounts (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Response actions asked for through invokeAction: pending (an AD action waits for a sensor of
-- its domain), done or failed, with their correlation ids, for the audit and `picket accounts
-- actions`.
CREATE TABLE account_actions (
    tenant_id       TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    domain          TEXT NOT NULL,
    status          TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, correlation_id)
);
CREATE INDEX account_actions_by_status ON account_actions (tenant_id, status, domain);
