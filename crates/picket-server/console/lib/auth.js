// Sign-in: the OAuth 2.0 authorization code flow with PKCE against the tenant's token service.
// A one-time link (`picket console-link`) opens a session at the token service (an HttpOnly
// cookie this page never sees); the console then asks for a code with prompt=none and trades
// it for an access token that lives in this page's memory only. Nothing secret is stored: the
// PKCE verifier and state wait in sessionStorage for the one round trip.

const TENANTS_KEY = "picket.tenants";
const CURRENT_KEY = "picket.tenant";
const FLOW_KEY = "picket.flow";

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

async function config() {
  const r = await fetch("/console/api/config");
  if (!r.ok) throw new Error(`The console configuration could not be read (HTTP ${r.status})`);
  return r.json();
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
  const verifier = randomText(48);
  const state = randomText(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({ tenant, verifier, state, returnTo }));
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
  location.assign(`${oauth(tenant, "authorize")}?${query}`);
  // The page is leaving; nothing after this should run.
  return new Promise(() => {});
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
    throw error;
  }
  const { clientId } = await config();
  const r = await fetch(oauth(flow.tenant, "token"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: clientId,
      code: params.get("code") || "",
      redirect_uri: redirectUri(),
      code_verifier: flow.verifier,
    }).toString(),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok || !body.access_token) {
    const error = new Error(body.error_description || `The token service refused the code (HTTP ${r.status})`);
    error.code = body.error || "token_failed";
    error.tenant = flow.tenant;
    throw error;
  }
  token = body.access_token;
  // A minute early, so no request leaves with a token about to expire.
  tokenExpiresAt = Date.now() + Math.max(60, (body.expires_in || 3600) - 60) * 1000;
  return { tenant: flow.tenant, returnTo: flow.returnTo };
}

/// Ends the session at the token service and forgets the token.
export async function signOut(tenant) {
  token = null;
  tokenExpiresAt = 0;
  await fetch(oauth(tenant, "logout"), { method: "POST", credentials: "same-origin" }).catch(() => {});
}
