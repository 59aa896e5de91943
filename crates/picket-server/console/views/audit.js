// The audit log, newest first, filterable by actor, operation and time, paging back in time.

import { consoleApi } from "../lib/api.js";
import { h, mount, table, when, empty, failure, field, loading } from "../lib/ui.js";

export const view = {
  route: "audit",
  title: "Audit log",
  order: 90,
  allowed: (s) => s.can.readAuditLog,
  render,
};

function localToIso(value) {
  if (!value) return "";
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? "" : t.toISOString();
}

async function render(ctx) {
  const q = ctx.query;
  const state = { actor: q.get("actor") || "", operation: q.get("operation") || "", since: q.get("since") || "", until: q.get("until") || "" };
  const results = h("div", { id: "audit-results" });
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter the audit log",
      onsubmit: (e) => {
        e.preventDefault();
        const d = Object.fromEntries(new FormData(e.target).entries());
        ctx.navigate(ctx.link("audit", { actor: d.actor, operation: d.operation, since: localToIso(d.since), until: localToIso(d.until) }));
      },
    },
    field("Actor", h("input", { name: "actor", value: state.actor, placeholder: "user:… or app:…" })),
    field("Operation", h("input", { name: "operation", value: state.operation, placeholder: "updateSensor" })),
    field("Since", h("input", { name: "since", type: "datetime-local", value: state.since ? state.since.slice(0, 16) : "" })),
    field("Until", h("input", { name: "until", type: "datetime-local", value: state.until ? state.until.slice(0, 16) : "" })),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Apply"), h("a", { href: ctx.link("audit"), class: "button secondary" }, "Clear")),
  );
  mount(ctx.root, h("h1", {}, "Audit log"), form, results);
  const base = new URLSearchParams(Object.entries(state).filter(([, v]) => v));
  // The `before` of each newer page left behind, to come back to.
  const pages = [];
  let shown = null;
  const load = async (before, quiet = false) => {
    shown = before;
    const params = new URLSearchParams(base);
    params.set("top", "50");
    if (before) params.set("before", String(before));
    if (!quiet) mount(results, loading());
    const page = await consoleApi(`/audit?${params}`);
    draw(ctx, results, page, {
      newer: pages.length ? () => load(pages.pop()) : null,
      older: page.nextBefore ? () => { pages.push(shown); load(page.nextBefore); } : null,
    });
  };
  await load(null).catch((e) => mount(results, failure(e)));
  return { refresh: () => (pages.length ? Promise.resolve() : load(null, true)) };
}

function draw(ctx, root, page, paging) {
  const rows = page.value || [];
  if (!rows.length) {
    mount(root, empty("No audit entry matches."));
    return;
  }
  const actorLink = (e) => h("a", { href: ctx.link("audit", { actor: e.actor }) }, e.actor);
  const opLink = (e) => h("a", { href: ctx.link("audit", { operation: e.operation }) }, e.operation);
  mount(
    root,
    table("Audit entries", [
      { title: "Time", cell: (e) => when(e.time) },
      { title: "Actor", cell: actorLink },
      { title: "Operation", cell: opLink },
      { title: "Target", cell: (e) => e.target },
      { title: "Result", cell: (e) => e.result },
      { title: "Detail", cell: (e) => e.detail || "" },
    ], rows.map((e) => ({ ...e, id: String(e.seq) }))),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", id: "audit-newer", disabled: !paging.newer, onclick: paging.newer }, "Newer"),
      h("button", { type: "button", id: "audit-older", disabled: !paging.older, onclick: paging.older }, "Older"),
    ),
  );
}
