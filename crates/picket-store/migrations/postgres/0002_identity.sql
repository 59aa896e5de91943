-- Identity: app registrations and their credentials, users with directory roles, trusted
-- external issuers, the audit trail (all keyed by tenant first), and the built-in issuer's
-- signing keys (installation-wide: one issuer signs for every tenant, as Entra's keys do).

ALTER TABLE tenants ADD COLUMN display_name TEXT COLLATE "C" NOT NULL DEFAULT '';

CREATE TABLE apps (
    tenant_id     TEXT COLLATE "C" NOT NULL,
    client_id     TEXT COLLATE "C" NOT NULL,
    display_name  TEXT COLLATE "C" NOT NULL,
    permissions   TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_at    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, client_id)
);

CREATE TABLE app_secrets (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    client_id   TEXT COLLATE "C" NOT NULL,
    key_id      TEXT COLLATE "C" NOT NULL,
    hint        TEXT COLLATE "C" NOT NULL,
    salt        TEXT COLLATE "C" NOT NULL,
    hash        TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, client_id, key_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id) ON DELETE CASCADE
);

CREATE TABLE app_certificates (
    tenant_id          TEXT COLLATE "C" NOT NULL,
    client_id          TEXT COLLATE "C" NOT NULL,
    key_id             TEXT COLLATE "C" NOT NULL,
    thumbprint         TEXT COLLATE "C" NOT NULL,
    thumbprint_sha256  TEXT COLLATE "C" NOT NULL,
    certificate_pem    TEXT COLLATE "C" NOT NULL,
    not_after          TEXT COLLATE "C" NOT NULL,
    created_at         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, client_id, key_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id) ON DELETE CASCADE
);

CREATE TABLE users (
    tenant_id            TEXT COLLATE "C" NOT NULL,
    object_id            TEXT COLLATE "C" NOT NULL,
    user_principal_name  TEXT COLLATE "C" NOT NULL,
    display_name         TEXT COLLATE "C" NOT NULL,
    roles                TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_at           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, object_id)
);
CREATE UNIQUE INDEX users_by_upn ON users (tenant_id, lower(user_principal_name));

CREATE TABLE trusted_issuers (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    issuer      TEXT COLLATE "C" NOT NULL,
    jwks_uri    TEXT COLLATE "C" NOT NULL,
    audiences   TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, issuer)
);

CREATE TABLE audit_log (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    time        TEXT COLLATE "C" NOT NULL,
    actor       TEXT COLLATE "C" NOT NULL,
    operation   TEXT COLLATE "C" NOT NULL,
    target      TEXT COLLATE "C" NOT NULL,
    result      TEXT COLLATE "C" NOT NULL,
    request_id  TEXT COLLATE "C" NOT NULL,
    detail      TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_by_time ON audit_log (tenant_id, time);

CREATE TABLE signing_keys (
    kid           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    private_pem   TEXT COLLATE "C" NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    retired_at    TEXT COLLATE "C",
    remove_after  TEXT COLLATE "C"
);
