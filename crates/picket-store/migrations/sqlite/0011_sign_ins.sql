-- Console sign-in secrets, each keyed by the SHA-256 of its secret (the secret itself is never
-- stored): one-time sign-in tickets (`picket console-link`), console sessions (the
-- picket_session cookie) and authorization codes (with what they are bound to: client,
-- redirect URI, PKCE challenge, scopes). One-time use is an UPDATE of `used_at` that only an
-- unused, unexpired row matches. Never copied into snapshots or backups.
CREATE TABLE sign_ins (
    tenant_id       TEXT NOT NULL,
    digest          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    revoked_at      TEXT,
    client_id       TEXT,
    redirect_uri    TEXT,
    code_challenge  TEXT,
    scopes          TEXT,
    PRIMARY KEY (tenant_id, digest)
) WITHOUT ROWID;
CREATE INDEX sign_ins_by_expiry ON sign_ins (tenant_id, expires_at);
