// Calls to the Graph API (and the console's own read endpoints) with the signed-in user's
// token. Errors come back in Graph's envelope and are thrown as ApiError with its code and
// message, so views show exactly what the API said.

import { accessToken } from "./auth.js";

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

let onUnauthorized = () => {};

/// What to do when the token is missing or refused (sign in again).
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export const IDENTITIES = "/security/identities";

async function call(method, url, body) {
  const token = accessToken();
  if (!token) {
    onUnauthorized();
    throw new ApiError(401, "InvalidAuthenticationToken", "Your sign-in has expired; signing in again…");
  }
  const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let r;
  try {
    r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "NetworkError", "Picket could not be reached. Is the server running?");
  }
  if (r.status === 401) onUnauthorized();
  if (r.status === 204) return null;
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!r.ok) {
    const e = (json && json.error) || {};
    const inner = e.innerError || {};
    // A 403 from the real service has an empty message and the reason in innerError.
    const message = e.message || inner.message || `HTTP ${r.status}`;
    throw new ApiError(r.status, e.code || `HTTP${r.status}`, message, inner["request-id"] || r.headers.get("request-id"));
  }
  return json === null ? text : json;
}

/// A Graph call: `graph("GET", "/sensors?$top=10")` under /security/identities of v1.0.
export function graph(method, path, body, { version = "v1.0", root = IDENTITIES } = {}) {
  return call(method, `/${version}${root}${path}`, body);
}

/// Follows an `@odata.nextLink` as it is given.
export function follow(nextLink) {
  const url = new URL(nextLink, location.origin);
  return call("GET", url.pathname + url.search);
}

/// Every item of a collection, page by page (bounded: `limit` items at most).
export async function all(path, { version = "v1.0", limit = 5000 } = {}) {
  let page = await graph("GET", path, undefined, { version });
  const items = [...(page.value || [])];
  while (page["@odata.nextLink"] && items.length < limit) {
    page = await follow(page["@odata.nextLink"]);
    items.push(...(page.value || []));
  }
  return items.slice(0, limit);
}

/// The console's own endpoints: `consoleApi("/overview")`.
export function consoleApi(path) {
  return call("GET", `/console/api${path}`);
}

/// OData string literal: quotes doubled.
export function literal(text) {
  return `'${String(text).replace(/'/g, "''")}'`;
}

/// Several changes in Graph `$batch` requests of 20; resolves to [{id, status, error?}].
export async function batch(requests, { version = "v1.0" } = {}) {
  const results = [];
  for (let i = 0; i < requests.length; i += 20) {
    const chunk = requests.slice(i, i + 20).map((r, n) => ({
      id: String(i + n + 1),
      method: r.method,
      url: `${IDENTITIES}${r.path}`,
      headers: r.body === undefined ? undefined : { "content-type": "application/json" },
      body: r.body,
    }));
    const answer = await call("POST", `/${version}/$batch`, { requests: chunk });
    for (const response of answer.responses || []) {
      const error = response.status >= 400 ? (response.body && response.body.error) || { message: `HTTP ${response.status}` } : null;
      results.push({ id: response.id, status: response.status, error });
    }
  }
  return results;
}
