// Sensor candidates: activate the selected ones or every one matching the filter, and the
// tenant's activation mode.

import { graph, all, literal } from "../lib/api.js";
import { h, mount, table, when, empty, failure, field, select, toast, confirmDialog, loading } from "../lib/ui.js";

export const view = {
  route: "candidates",
  title: "Candidates",
  order: 40,
  allowed: (s) => s.can.readSensors,
  render,
};

/// The API takes at most this many server ids per activation.
const ACTIVATE_CHUNK = 1000;

async function render(ctx) {
  const domain = ctx.query.get("domain") || "";
  const mode = h("section", { id: "activation-mode", "aria-labelledby": "mode-title" });
  const toolbar = h("div", { class: "toolbar", id: "candidate-actions" });
  const results = h("div", { id: "candidate-results" });
  const selected = new Set();
  const filter = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter candidates",
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate(ctx.link("candidates", Object.fromEntries(new FormData(e.target).entries())));
      },
    },
    field("Domain", h("input", { name: "domain", value: domain })),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Apply")),
  );
  mount(ctx.root, h("h1", {}, "Sensor candidates"), mode, filter, toolbar, results);
  const filterText = domain ? `domainName eq ${literal(domain)}` : "";

  const activate = async (ids) => {
    if (!ids.length) return;
    const ok = await confirmDialog({
      title: `Activate ${ids.length} candidate${ids.length === 1 ? "" : "s"}?`,
      message: "Each becomes a sensor and starts protecting its server at its next check-in.",
      action: "Activate",
    });
    if (!ok) return;
    try {
      for (let i = 0; i < ids.length; i += ACTIVATE_CHUNK) {
        await graph("POST", "/sensorCandidates/activate", { serverIds: ids.slice(i, i + ACTIVATE_CHUNK) });
      }
      toast(`Activated ${ids.length} candidate${ids.length === 1 ? "" : "s"}.`);
      selected.clear();
      await load(false);
    } catch (e) {
      toast(`${e.code}: ${e.message}`, "error");
    }
  };

  const load = async (first) => {
    const params = new URLSearchParams({ $top: "100", $count: "true", $orderby: "computerDnsName" });
    if (filterText) params.set("$filter", filterText);
    if (first) mount(results, loading());
    const page = await graph("GET", `/sensorCandidates?${params}`);
    drawToolbar(ctx, toolbar, selected, page, activate, filterText);
    drawTable(ctx, results, page.value || [], selected, toolbar);
  };
  await Promise.all([drawMode(ctx, mode), load(true).catch((e) => mount(results, failure(e)))]);
  return { refresh: () => (selected.size ? Promise.resolve() : load(false)) };
}

async function drawMode(ctx, root) {
  const config = await graph("GET", "/sensorCandidateActivationConfiguration");
  const title = h("h2", { id: "mode-title" }, "Activation mode");
  if (!ctx.session.can.manageSensors) {
    mount(root, title, h("p", {}, `Candidates are activated ${config.activationMode === "automated" ? "automatically" : "by an administrator"}.`));
    return;
  }
  const control = select("activationMode", [["manual", "Manual: an administrator activates"], ["automated", "Automated: every candidate is activated"]], config.activationMode);
  control.addEventListener("change", async () => {
    try {
      await graph("PATCH", "/sensorCandidateActivationConfiguration", { activationMode: control.value });
      toast(`Activation mode is now ${control.value}.`);
    } catch (e) {
      toast(`${e.code}: ${e.message}`, "error");
      control.value = config.activationMode;
    }
  });
  mount(root, title, field("Mode", control));
}

function drawToolbar(ctx, root, selected, page, activate, filterText) {
  if (!ctx.session.can.manageSensors) {
    mount(root, h("p", { class: "hint" }, "Your roles allow reading candidates, not activating them."));
    return;
  }
  const count = h("span", { id: "selected-count" }, `${selected.size} selected`);
  const one = h("button", { type: "button", id: "activate-selected", disabled: selected.size === 0, onclick: () => activate([...selected]) }, "Activate selected");
  const total = page["@odata.count"] ?? (page.value || []).length;
  const every = h(
    "button",
    {
      type: "button",
      id: "activate-all",
      disabled: total === 0,
      onclick: async () => {
        const items = await all(`/sensorCandidates?$select=id${filterText ? `&$filter=${encodeURIComponent(filterText)}` : ""}`, { limit: 100000 });
        activate(items.map((c) => c.id));
      },
    },
    `Activate all ${total} matching`,
  );
  root.update = () => {
    count.textContent = `${selected.size} selected`;
    one.disabled = selected.size === 0;
  };
  mount(root, count, one, every);
}

function drawTable(ctx, root, rows, selected, toolbar) {
  if (!rows.length) {
    mount(root, empty("No sensor candidates.", "Servers where the package is installed without activation appear here."));
    return;
  }
  const columns = [
    { title: "Server", cell: (c) => c.computerDnsName },
    { title: "Domain", cell: (c) => c.domainName || "—" },
    { title: "Client version", cell: (c) => c.senseClientVersion },
    { title: "Last seen", cell: (c) => when(c.lastSeenDateTime) },
  ];
  if (ctx.session.can.manageSensors) {
    columns.unshift({
      title: "Select",
      class: "select",
      cell: (c) =>
        h("input", {
          type: "checkbox",
          "aria-label": `Select ${c.computerDnsName}`,
          checked: selected.has(c.id),
          onchange: (e) => {
            if (e.target.checked) selected.add(c.id);
            else selected.delete(c.id);
            toolbar.update && toolbar.update();
          },
        }),
    });
  }
  mount(root, table("Sensor candidates", columns, rows));
}
