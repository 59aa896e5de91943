-- Identity: app registrations and their credentials, users with directory roles, trusted
-- external issuers, the audit trail (all keyed by tenant first), and the built-in issuer's
-- signing keys (installation-wide: one issuer signs for every tenant, as Entra's keys do).

ALTER TABLE tenants ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

CREATE TABLE apps (
    tenant_id     TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    permissions   TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, client_id)
) WITHOUT ROWID;

CREATE TABLE app_secrets (
    tenant_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    hint        TEXT NOT NULL,
    salt        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, key_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE app_certificates (
    tenant_id          TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    key_id             TEXT NOT NULL,
    thumbprint         TEXT NOT NULL,
    thumbprint_sha256  TEXT NOT NULL,
    certificate_pem    TEXT NOT NULL,
    not_after          TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, key_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE users (
    tenant_id            TEXT NOT NULL,
    object_id            TEXT NOT NULL,
    user_principal_name  TEXT NOT NULL COLLATE NOCASE,
    display_name         TEXT NOT NULL,
    roles                TEXT NOT NULL DEFAULT '[]',
    created_at           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, object_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_by_upn ON users (tenant_id, user_principal_name);

CREATE TABLE trusted_issuers (
    tenant_id   TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    jwks_uri    TEXT NOT NULL,
    audiences   TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, issuer)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    time        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    operation   TEXT NOT NULL,
    target      TEXT NOT NULL,
    result      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
CREATE INDEX audit_by_time ON audit_log (tenant_id, time);

CREATE TABLE signing_keys (
    kid           TEXT NOT NULL PRIMARY KEY,
    private_pem   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    retired_at    TEXT,
    remove_after  TEXT
) WITHOUT ROWID;
