// The console's shell: sign-in, the navigation built from the views that exist (views.js is
// made by the server from the files in views/), hash routing that keeps each view's filters in
// the URL, the tenant switcher, and live refresh of the view on screen.

import * as auth from "./lib/auth.js";
import { consoleApi, whenUnauthorized } from "./lib/api.js";
import { h, mount, loading, failure, toast } from "./lib/ui.js";
import views from "./views.js";

/// How often the view on screen is refreshed (sensors going silent show within this).
const LIVE_MS = 3000;

const main = () => document.getElementById("main");
let session = null;
let current = null; // { view, handle, key }

const allViews = views
  .map((m) => m.view)
  .filter(Boolean)
  .sort((a, b) => (a.order || 0) - (b.order || 0));

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  return { segments: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

function match(route, segments) {
  const parts = route.split("/").filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params = {};
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith(":")) params[parts[i].slice(1)] = segments[i];
    else if (parts[i] !== segments[i]) return null;
  }
  return params;
}

export function link(route, query) {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== "")) : null;
  const text = q && [...q].length ? `?${q}` : "";
  return `#/${route}${text}`;
}

function allowed(view) {
  return !view.allowed || view.allowed(session);
}

function renderNav() {
  const { segments } = parseHash();
  const here = segments[0] || "";
  const nav = document.getElementById("nav");
  mount(
    nav,
    h(
      "ul",
      {},
      allViews
        .filter((v) => v.nav !== false && allowed(v))
        .map((v) => {
          const first = v.route.split("/")[0];
          return h("li", {}, h("a", { href: link(v.route), "aria-current": first === here ? "page" : null }, v.title));
        }),
    ),
  );
}

function renderHeader() {
  const tenants = auth.knownTenants();
  const tenantId = session.tenantId;
  const picker = h(
    "select",
    {
      id: "tenant-switch",
      "aria-label": "Tenant",
      onchange: (e) => {
        const next = e.target.value;
        if (next && next !== tenantId) auth.signInSilently(next, "#/");
      },
    },
    tenants.map((t) => h("option", { value: t.id, selected: t.id === tenantId }, t.name === t.id ? t.id : `${t.name} (${t.id.slice(0, 8)}…)`)),
  );
  mount(document.getElementById("tenant"), h("label", { for: "tenant-switch", class: "visually-hidden" }, "Tenant"), picker);
  const who = session.user ? session.user.displayName || session.user.userPrincipalName : session.actor;
  mount(
    document.getElementById("who"),
    h("span", { class: "user", title: session.user ? session.user.userPrincipalName : session.actor }, who),
    h("span", { class: "roles" }, (session.roles || []).join(", ") || "no directory role"),
    h(
      "button",
      {
        type: "button",
        id: "sign-out",
        onclick: async () => {
          await auth.signOut(tenantId);
          signedOut(tenantId, "You have signed out.");
        },
      },
      "Sign out",
    ),
  );
}

async function route() {
  const { segments, query } = parseHash();
  if (current && current.handle && current.handle.dispose) current.handle.dispose();
  current = null;
  renderNav();
  let found = null;
  for (const view of allViews) {
    const params = match(view.route, segments);
    if (params) {
      found = { view, params };
      break;
    }
  }
  const root = main();
  if (!found) {
    mount(root, h("h1", {}, "Not found"), h("p", {}, "There is no such page in the console. "), h("a", { href: "#/" }, "Go to the overview"));
    return;
  }
  if (!allowed(found.view)) {
    mount(root, h("h1", {}, found.view.title), failure({ code: "Forbidden", message: "Your roles do not allow this view." }));
    return;
  }
  document.title = `${found.view.title} · Picket console`;
  mount(root, loading());
  const key = location.hash;
  const ctx = {
    root,
    params: found.params,
    query,
    session,
    link,
    navigate: (hash) => (location.hash = hash),
    replaceQuery: (q) => history.replaceState(null, "", link(found.view.route.replace(/:([a-z]+)/g, (_, n) => encodeURIComponent(found.params[n])), q)),
  };
  try {
    const handle = await found.view.render(ctx);
    if (location.hash === key) current = { view: found.view, handle, key };
  } catch (e) {
    mount(root, h("h1", {}, found.view.title), failure(e, () => route()));
  }
}

let refreshing = false;
async function tick() {
  if (!current || !current.handle || !current.handle.refresh || refreshing) return;
  if (document.hidden || document.querySelector("dialog[open]")) return;
  refreshing = true;
  try {
    await current.handle.refresh();
  } catch (e) {
    // A failed refresh keeps what is on screen; the next one may succeed.
    console.warn("refresh failed", e);
  } finally {
    refreshing = false;
  }
}

function signedOut(tenant, reason) {
  session = null;
  mount(document.getElementById("nav"));
  mount(document.getElementById("who"));
  mount(document.getElementById("tenant"));
  const command = `picket console-link --tenant ${tenant || "TENANT"} --user YOU@EXAMPLE.COM`;
  const others = auth.knownTenants().filter((t) => t.id !== tenant);
  const providers = h("section", { id: "providers", "aria-live": "polite" });
  mount(
    main(),
    h("h1", {}, "Sign in to Picket"),
    reason ? h("p", { class: "notice", role: "status" }, reason) : null,
    providers,
    h("p", {}, "Picket keeps no passwords. Open the one-time sign-in link an operator makes for you:"),
    h("pre", { class: "command" }, h("code", {}, command)),
    h("p", { class: "hint" }, "`picket serve --demo` prints one for the demo administrator when it starts."),
    tenant ? h("button", { type: "button", onclick: () => auth.authorize(tenant, "#/") }, "Try again") : null,
    tenantForm(tenant),
    others.length
      ? h(
          "section",
          {},
          h("h2", {}, "Other tenants you signed in to"),
          h("ul", {}, others.map((t) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => auth.signInSilently(t.id, "#/") }, t.name)))),
        )
      : null,
  );
  if (tenant) showProviders(providers, tenant);
}

/// "Sign in with …" for each external provider the tenant trusts for the console.
async function showProviders(root, tenant) {
  let list;
  try {
    list = await auth.externalProviders(tenant);
  } catch (e) {
    mount(root, failure(e));
    return;
  }
  if (!list.length) return;
  mount(
    root,
    h("h2", {}, "With your organization's account"),
    h(
      "ul",
      { class: "providers" },
      list.map((p) =>
        h("li", {}, h("button", { type: "button", class: "provider", onclick: () => auth.authorizeExternal(tenant, p, "#/") }, `Sign in with ${p.name}`)),
      ),
    ),
  );
}

/// Which tenant to sign in to, when the browser remembers none (or another one).
function tenantForm(tenant) {
  const input = h("input", { id: "tenant-id", name: "tenant", type: "text", required: true, autocomplete: "off", spellcheck: "false", size: 38, placeholder: "00000000-0000-0000-0000-000000000000" });
  return h(
    "form",
    {
      id: "tenant-form",
      onsubmit: (e) => {
        e.preventDefault();
        const id = input.value.trim().toLowerCase();
        if (!id) return;
        localStorage.setItem("picket.tenant", id);
        signedOut(id, null);
      },
    },
    h("label", { for: "tenant-id" }, tenant ? "Another tenant id" : "Tenant id"),
    " ",
    input,
    " ",
    h("button", { type: "submit" }, "Continue"),
  );
}

async function start() {
  whenUnauthorized(() => {
    if (session) auth.signInSilently(session.tenantId, location.hash || "#/");
  });
  try {
    session = await consoleApi("/session");
  } catch (e) {
    mount(main(), failure(e, () => location.reload()));
    return;
  }
  auth.rememberTenant(session.tenantId, session.tenantName);
  renderHeader();
  window.addEventListener("hashchange", route);
  setInterval(tick, LIVE_MS);
  await route();
}

async function boot() {
  const hash = location.hash.replace(/^#/, "");
  const search = new URLSearchParams(location.search);
  try {
    if (hash && !hash.startsWith("/") && hash.includes("ticket=")) {
      // A one-time sign-in link: the ticket is in the fragment, which never reaches a server log.
      const link = new URLSearchParams(hash);
      history.replaceState(null, "", "/console/");
      const tenant = link.get("tenant");
      await auth.redeemTicket(tenant, link.get("ticket") || "");
      auth.rememberTenant(tenant);
      await auth.authorize(tenant, "#/");
      return;
    }
    if (search.has("code") || search.has("error")) {
      const { tenant, returnTo } = await auth.completeRedirect(search);
      history.replaceState(null, "", `/console/${returnTo && returnTo.startsWith("#/") ? returnTo : "#/"}`);
      localStorage.setItem("picket.tenant", tenant);
      await start();
      return;
    }
    const tenant = auth.currentTenant();
    if (!tenant) {
      signedOut(null);
      return;
    }
    await auth.signInSilently(tenant, location.hash.startsWith("#/") ? location.hash : "#/");
  } catch (e) {
    history.replaceState(null, "", "/console/");
    const tenant = e.tenant || auth.currentTenant();
    const reason = e.code === "login_required" ? `You are not signed in to tenant ${tenant}.` : `${e.message}`;
    signedOut(tenant, reason);
    if (e.code !== "login_required") toast(e.message, "error");
  }
}

boot();
