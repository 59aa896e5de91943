-- Console sign-in secrets, each keyed by the SHA-256 of its secret (the secret itself is never
-- stored): one-time sign-in tickets (`picket console-link`), console sessions (the
-- picket_session cookie) and authorization codes (with what they are bound to: client,
-- redirect URI, PKCE challenge, scopes). One-time use is an UPDATE of `used_at` that only an
-- unused, unexpired row matches. Never copied into snapshots or backups.
CREATE TABLE sign_ins (
    tenant_id       TEXT COLLATE "C" NOT NULL,
    digest          TEXT COLLATE "C" NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    expires_at      TEXT COLLATE "C" NOT NULL,
    used_at         TEXT COLLATE "C",
    revoked_at      TEXT COLLATE "C",
    client_id       TEXT COLLATE "C",
    redirect_uri    TEXT COLLATE "C",
    code_challenge  TEXT COLLATE "C",
    scopes          TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, digest)
);
CREATE INDEX sign_ins_by_expiry ON sign_ins (tenant_id, expires_at);
