-- Sign-in clients beyond the console's own: public client apps of this tenant with their
-- exact redirect URIs (the authorization endpoint serves them, PKCE required), and the console's
-- registration at each trusted issuer that signs people in to it (the client id at that
-- provider, its authorization and token endpoints, the scopes asked for). Both go with the
-- app or the trusted issuer they belong to.
CREATE TABLE public_clients (
    tenant_id      TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    redirect_uris  TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, client_id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES apps (tenant_id, client_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE console_registrations (
    tenant_id               TEXT NOT NULL,
    issuer                  TEXT NOT NULL,
    display_name            TEXT NOT NULL,
    client_id               TEXT NOT NULL,
    authorization_endpoint  TEXT NOT NULL,
    token_endpoint          TEXT NOT NULL,
    scopes                  TEXT NOT NULL DEFAULT '[]',
    created_at              TEXT NOT NULL,
    PRIMARY KEY (tenant_id, issuer),
    FOREIGN KEY (tenant_id, issuer) REFERENCES trusted_issuers (tenant_id, issuer) ON DELETE CASCADE
) WITHOUT ROWID;
