// Sign-in: the OAuth 2.0 authorization code flow with PKCE, either against the tenant's own
// token service or against an external OpenID Connect provider the tenant trusts (e.g.
// Microsoft Entra ID).
// - Picket's own: a one-time link (`picket console-link`) opens a session at the token service
//   (an HttpOnly cookie this page never sees); the console then asks for a code with
//   prompt=none and trades it for an access token at the token service.
// - An external provider: the page leaves for the provider's authorization endpoint (a
//   top-level navigation, so the Content-Security-Policy stays `connect-src 'self'`), comes
//   back with a code, and posts it with its verifier to this server's /console/api/token, which
//   redeems it at that provider's token endpoint.
// Either way the access token lives in this page's memory only. Nothing secret is stored: the
// flow's kind, PKCE verifier and state wait in sessionStorage for the one round trip; which
// provider a tenant was signed in through is remembered (localStorage) to renew silently.

const TENANTS_KEY = "picket.tenants";
const CURRENT_KEY = "picket.tenant";
const FLOW_KEY = "picket.flow";
const PROVIDER_KEY = "picket.provider.";

let token = null;
let tokenExpiresAt = 0;

export function currentTenant() {
  return localStorage.getItem(CURRENT_KEY);
}

export function knownTenants() {
  try {
    const list = JSON.parse(localStorage.getItem(TENANTS_KEY) || "[]");
    return Array.isArray(list) ? list.filter((t) => t && typeof t.id === "string") : [];
  } catch {
    return [];
  }
}

export function rememberTenant(id, name) {
  const list = knownTenants().filter((t) => t.id !== id);
  list.unshift({ id, name: name || id });
  localStorage.setItem(TENANTS_KEY, JSON.stringify(list.slice(0, 20)));
  localStorage.setItem(CURRENT_KEY, id);
}

export function forgetTenant(id) {
  localStorage.setItem(TENANTS_KEY, JSON.stringify(knownTenants().filter((t) => t.id !== id)));
  if (currentTenant() === id) localStorage.removeItem(CURRENT_KEY);
}

export function accessToken() {
  return token && Date.now() < tokenExpiresAt ? token : null;
}

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(n = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function redirectUri() {
  return `${location.origin}/console/`;
}

function oauth(tenant, endpoint) {
  return `/${encodeURIComponent(tenant)}/oauth2/v2.0/${endpoint}`;
}

async function config(tenant) {
  const r = await fetch(tenant ? `/console/api/config?tenant=${encodeURIComponent(tenant)}` : "/console/api/config");
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const error = new Error((body.error && body.error.message) || `The console configuration could not be read (HTTP ${r.status})`);
    error.code = (body.error && body.error.code) || "config_failed";
    throw error;
  }
  return body;
}

/// The tenant's sign-in providers besides Picket's own: [{name, issuer, authorizationEndpoint, clientId, scopes}].
export async function externalProviders(tenant) {
  const { providers } = await config(tenant);
  return (providers || []).filter((p) => p.kind === "oidc");
}

/// The external provider (its issuer) the tenant was last signed in through, if any.
export function rememberedProvider(tenant) {
  return localStorage.getItem(PROVIDER_KEY + tenant);
}

function rememberProvider(tenant, issuer) {
  if (issuer) localStorage.setItem(PROVIDER_KEY + tenant, issuer);
  else localStorage.removeItem(PROVIDER_KEY + tenant);
}

async function pkce() {
  const verifier = randomText(48);
  const state = randomText(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, state, challenge };
}

function leave(url) {
  location.assign(url);
  // The page is leaving; nothing after this should run.
  return new Promise(() => {});
}

/// Leaves for an external provider's authorization endpoint; comes back to /console/?code=….
/// `silent` asks the provider not to show anything (prompt=none: renewing a sign-in).
export async function authorizeExternal(tenant, provider, returnTo, silent = false) {
  const { verifier, state, challenge } = await pkce();
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({ kind: "oidc", issuer: provider.issuer, tenant, verifier, state, returnTo }));
  const query = new URLSearchParams({
    client_id: provider.clientId,
    response_type: "code",
    response_mode: "query",
    redirect_uri: redirectUri(),
    scope: provider.scopes.join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (silent) query.set("prompt", "none");
  const endpoint = provider.authorizationEndpoint;
  return leave(`${endpoint}${endpoint.includes("?") ? "&" : "?"}${query}`);
}

/// Renews (or starts) the tenant's sign-in without asking anything: through the provider it
/// was last signed in through, else Picket's own token service.
export async function signInSilently(tenant, returnTo) {
  const issuer = rememberedProvider(tenant);
  if (issuer) {
    const provider = (await externalProviders(tenant).catch(() => [])).find((p) => p.issuer === issuer);
    if (provider) return authorizeExternal(tenant, provider, returnTo, true);
    rememberProvider(tenant, null);
  }
  return authorize(tenant, returnTo);
}

/// Trades a one-time sign-in ticket for a session at the tenant's token service.
export async function redeemTicket(tenant, ticket) {
  const r = await fetch(oauth(tenant, "signin"), {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ticket }).toString(),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const error = new Error(body.error_description || `The sign-in link was refused (HTTP ${r.status})`);
    error.code = body.error || "signin_failed";
    throw error;
  }
  return body;
}

/// Leaves for the authorize endpoint; comes back to /console/?code=… (or ?error=…).
export async function authorize(tenant, returnTo) {
  const { clientId, scopes } = await config();
  const { verifier, state, challenge } = await pkce();
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({ kind: "picket", tenant, verifier, state, returnTo }));
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: "code",
    redirect_uri: redirectUri(),
    scope: scopes.join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
    prompt: "none",
  });
  return leave(`${oauth(tenant, "authorize")}?${query}`);
}

/// Finishes a flow this page started: `{tenant, returnTo}` signed in, or an error to show.
export async function completeRedirect(params) {
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || "null");
  sessionStorage.removeItem(FLOW_KEY);
  if (!flow || flow.state !== params.get("state")) {
    const error = new Error("This sign-in was not started by this page (state mismatch). Start again.");
    error.code = "state_mismatch";
    throw error;
  }
  if (params.get("error")) {
    const error = new Error(params.get("error_description") || params.get("error"));
    error.code = params.get("error");
    error.tenant = flow.tenant;
    // A silent renewal through a provider that wants the person: sign in again by choice.
    if (flow.kind === "oidc") rememberProvider(flow.tenant, null);
    throw error;
  }
  const code = params.get("code") || "";
  let r;
  if (flow.kind === "oidc") {
    // Redeemed by this server at the provider's token endpoint (same origin for the page).
    r = await fetch("/console/api/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ tenant: flow.tenant, issuer: flow.issuer, code, code_verifier: flow.verifier }).toString(),
    });
  } else {
    const { clientId } = await config();
    r = await fetch(oauth(flow.tenant, "token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: clientId,
        code,
        redirect_uri: redirectUri(),
        code_verifier: flow.verifier,
      }).toString(),
    });
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok || !body.access_token) {
    const error = new Error(body.error_description || `The token service refused the code (HTTP ${r.status})`);
    error.code = body.error || "token_failed";
    error.tenant = flow.tenant;
    throw error;
  }
  rememberProvider(flow.tenant, flow.kind === "oidc" ? flow.issuer : null);
  token = body.access_token;
  // A minute early, so no request leaves with a token about to expire.
  tokenExpiresAt = Date.now() + Math.max(60, (body.expires_in || 3600) - 60) * 1000;
  return { tenant: flow.tenant, returnTo: flow.returnTo };
}

/// Ends the session at the token service and forgets the token.
export async function signOut(tenant) {
  token = null;
  tokenExpiresAt = 0;
  // An external provider's own session is its business; this console just stops renewing.
  rememberProvider(tenant, null);
  await fetch(oauth(tenant, "logout"), { method: "POST", credentials: "same-origin" }).catch(() => {});
}
