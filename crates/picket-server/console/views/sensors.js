// Sensors: a server-side filtered, sorted and paged table (the API does the work, so it stays
// fast at any fleet size); the filter, sort and page live in the URL so a link shows the same.

import { graph, literal } from "../lib/api.js";
import { h, mount, table, badge, when, empty, failure, field, select, loading } from "../lib/ui.js";

export const view = {
  route: "sensors",
  title: "Sensors",
  order: 20,
  allowed: (s) => s.can.readSensors,
  render,
};

const HEALTH = ["", "healthy", "notHealthyLow", "notHealthyMedium", "notHealthyHigh"];
const DEPLOYMENT = ["", "upToDate", "outdated", "updating", "updateFailed", "notConfigured", "unreachable", "disconnected", "startFailure", "syncing"];
const TYPES = ["", "domainControllerIntegrated", "domainControllerStandalone", "adfsIntegrated", "adcsIntegrated", "adConnectIntegrated"];
const SORTS = [
  ["displayName", "Name"],
  ["createdDateTime desc", "Newest"],
  ["healthStatus desc", "Health"],
  ["version", "Version"],
  ["domainName", "Domain"],
];
const PAGE_SIZES = ["25", "50", "100"];

export function filterOf(q) {
  const terms = [];
  if (q.get("health")) terms.push(`healthStatus eq ${literal(q.get("health"))}`);
  if (q.get("deployment")) terms.push(`deploymentStatus eq ${literal(q.get("deployment"))}`);
  if (q.get("type")) terms.push(`sensorType eq ${literal(q.get("type"))}`);
  if (q.get("domain")) terms.push(`domainName eq ${literal(q.get("domain"))}`);
  if (q.get("name")) terms.push(`startswith(displayName, ${literal(q.get("name"))})`);
  return terms.join(" and ");
}

async function render(ctx) {
  const q = ctx.query;
  const state = {
    health: q.get("health") || "",
    deployment: q.get("deployment") || "",
    type: q.get("type") || "",
    domain: q.get("domain") || "",
    name: q.get("name") || "",
    sort: q.get("sort") || "displayName",
    size: PAGE_SIZES.includes(q.get("size")) ? q.get("size") : "50",
    page: Math.max(1, parseInt(q.get("page") || "1", 10) || 1),
  };
  const results = h("div", { id: "sensor-results", "aria-live": "polite" });
  const apply = (changes) => {
    const next = { ...state, ...changes };
    ctx.navigate(ctx.link("sensors", next.page === 1 ? { ...next, page: null } : next));
  };
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter sensors",
      onsubmit: (e) => {
        e.preventDefault();
        const data = new FormData(e.target);
        apply({ ...Object.fromEntries(data.entries()), page: 1 });
      },
    },
    field("Name starts with", h("input", { name: "name", type: "search", value: state.name, id: "f-name" })),
    field("Health", select("health", HEALTH.map((v) => [v, v || "any"]), state.health)),
    field("Deployment", select("deployment", DEPLOYMENT.map((v) => [v, v || "any"]), state.deployment)),
    field("Type", select("type", TYPES.map((v) => [v, v || "any"]), state.type)),
    field("Domain", h("input", { name: "domain", type: "text", value: state.domain, id: "f-domain" })),
    field("Sort", select("sort", SORTS, state.sort)),
    field("Page size", select("size", PAGE_SIZES.map((v) => [v, v]), state.size)),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Apply"), h("a", { href: ctx.link("sensors"), class: "button secondary" }, "Clear")),
  );
  mount(ctx.root, h("h1", {}, "Sensors"), form, results);
  const size = Number(state.size);
  const refresh = async (first = false) => {
    const filter = filterOf(q);
    const params = new URLSearchParams({ $top: String(size), $count: "true", $orderby: state.sort });
    if (state.page > 1) params.set("$skip", String((state.page - 1) * size));
    if (filter) params.set("$filter", filter);
    params.set("$select", "id,displayName,domainName,sensorType,healthStatus,deploymentStatus,serviceStatus,version,createdDateTime");
    if (first) mount(results, loading());
    const page = await graph("GET", `/sensors?${params}`);
    draw(ctx, results, page, state, size, apply);
  };
  try {
    await refresh(true);
  } catch (e) {
    mount(results, failure(e, () => refresh(true)));
  }
  return { refresh: () => refresh(false) };
}

function draw(ctx, root, page, state, size, apply) {
  const rows = page.value || [];
  const total = page["@odata.count"];
  const pages = total === undefined ? null : Math.max(1, Math.ceil(total / size));
  if (rows.length === 0) {
    mount(root, empty(state.page > 1 ? "No sensors on this page." : "No sensor matches this filter.", "Change or clear the filter."));
    return;
  }
  const from = (state.page - 1) * size + 1;
  mount(
    root,
    h("p", { class: "summary", id: "sensor-count" }, `${from}–${from + rows.length - 1} of ${total ?? "?"} sensors`),
    table("Sensors", [
      { title: "Name", cell: (s) => h("a", { href: ctx.link(`sensors/${encodeURIComponent(s.id)}`) }, s.displayName) },
      { title: "Domain", cell: (s) => s.domainName },
      { title: "Type", cell: (s) => badge(s.sensorType, "type") },
      { title: "Health", cell: (s) => badge(s.healthStatus) },
      { title: "Deployment", cell: (s) => badge(s.deploymentStatus) },
      { title: "Service", cell: (s) => badge(s.serviceStatus) },
      { title: "Version", cell: (s) => s.version },
      { title: "Created", cell: (s) => when(s.createdDateTime) },
    ], rows),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", id: "page-prev", disabled: state.page <= 1, onclick: () => apply({ page: state.page - 1 }) }, "Previous"),
      h("span", { id: "page-of" }, pages ? `Page ${state.page} of ${pages}` : `Page ${state.page}`),
      h("button", { type: "button", id: "page-next", disabled: !page["@odata.nextLink"], onclick: () => apply({ page: state.page + 1 }) }, "Next"),
    ),
  );
}
