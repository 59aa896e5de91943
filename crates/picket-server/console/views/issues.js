// Health issues: triage in bulk (close, suppress, reopen several at once, through Graph $batch),
// filtered by status, severity and type in the URL.

import { graph, batch, literal } from "../lib/api.js";
import { h, mount, table, badge, when, empty, failure, field, select, toast, loading } from "../lib/ui.js";

export const view = {
  route: "issues",
  title: "Health issues",
  order: 30,
  allowed: (s) => s.can.readHealth,
  render,
};

const STATUSES = ["", "open", "closed", "suppressed"];
const SEVERITIES = ["", "high", "medium", "low"];
const TYPES = ["", "sensor", "global"];

async function render(ctx) {
  const q = ctx.query;
  const state = { status: q.get("status") ?? "open", severity: q.get("severity") || "", type: q.get("type") || "" };
  const results = h("div", { id: "issue-results" });
  const selected = new Set();
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter health issues",
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate(ctx.link("issues", Object.fromEntries(new FormData(e.target).entries())));
      },
    },
    field("Status", select("status", STATUSES.map((v) => [v, v || "any"]), state.status)),
    field("Severity", select("severity", SEVERITIES.map((v) => [v, v || "any"]), state.severity)),
    field("Type", select("type", TYPES.map((v) => [v, v || "any"]), state.type)),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Apply")),
  );
  const toolbar = h("div", { class: "toolbar", id: "issue-actions" });
  mount(ctx.root, h("h1", {}, "Health issues"), form, toolbar, results);

  const load = async (first) => {
    const terms = [];
    if (state.status) terms.push(`status eq ${literal(state.status)}`);
    if (state.severity) terms.push(`severity eq ${literal(state.severity)}`);
    if (state.type) terms.push(`healthIssueType eq ${literal(state.type)}`);
    const params = new URLSearchParams({ $top: "100", $orderby: "createdDateTime desc", $count: "true" });
    if (terms.length) params.set("$filter", terms.join(" and "));
    if (first) mount(results, loading());
    const page = await graph("GET", `/healthIssues?${params}`);
    draw(ctx, results, toolbar, page, selected, () => load(false));
  };
  try {
    await load(true);
  } catch (e) {
    mount(results, failure(e, () => load(true)));
  }
  return { refresh: () => (selected.size ? Promise.resolve() : load(false)) };
}

function draw(ctx, root, toolbar, page, selected, reload) {
  const rows = page.value || [];
  const canTriage = ctx.session.can.manageHealth;
  for (const id of [...selected]) if (!rows.some((r) => r.id === id)) selected.delete(id);
  const act = async (status) => {
    const ids = [...selected];
    if (!ids.length) return;
    const results = await batch(ids.map((id) => ({ method: "PATCH", path: `/healthIssues/${encodeURIComponent(id)}`, body: { status } })));
    const failed = results.filter((r) => r.error);
    if (failed.length) toast(`${failed.length} of ${ids.length} not changed: ${failed[0].error.code || ""} ${failed[0].error.message || ""}`, "error");
    else toast(`${ids.length} health issue${ids.length === 1 ? "" : "s"} now ${status}.`);
    selected.clear();
    await reload();
  };
  if (canTriage) {
    const count = h("span", { id: "selected-count" }, `${selected.size} selected`);
    const buttons = ["closed", "suppressed", "open"].map((status) =>
      h("button", { type: "button", "data-status": status, disabled: selected.size === 0, onclick: () => act(status) }, { closed: "Close", suppressed: "Suppress", open: "Reopen" }[status]),
    );
    toolbar.update = () => {
      count.textContent = `${selected.size} selected`;
      for (const b of buttons) b.disabled = selected.size === 0;
    };
    mount(toolbar, count, ...buttons);
  } else {
    mount(toolbar, h("p", { class: "hint" }, "Your roles allow reading health issues, not changing them."));
  }
  if (!rows.length) {
    mount(root, empty("No health issue matches this filter."));
    return;
  }
  const check = (i) =>
    h("input", {
      type: "checkbox",
      "aria-label": `Select ${i.displayName}`,
      checked: selected.has(i.id),
      onchange: (e) => {
        if (e.target.checked) selected.add(i.id);
        else selected.delete(i.id);
        toolbar.update && toolbar.update();
      },
    });
  const columns = [
    { title: "Issue", cell: (i) => h("a", { href: ctx.link(`issues/${encodeURIComponent(i.id)}`) }, i.displayName) },
    { title: "Severity", cell: (i) => badge(i.severity, "severity") },
    { title: "Status", cell: (i) => badge(i.status) },
    { title: "Type", cell: (i) => i.healthIssueType },
    { title: "Sensors", cell: (i) => (i.sensorDNSNames || []).join(", ") || (i.domainNames || []).join(", ") },
    { title: "Created", cell: (i) => when(i.createdDateTime) },
  ];
  if (canTriage) columns.unshift({ title: "Select", cell: check, class: "select" });
  mount(root, h("p", { class: "summary" }, `${rows.length} of ${page["@odata.count"] ?? rows.length} health issues`), table("Health issues", columns, rows));
}
