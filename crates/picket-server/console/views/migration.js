// Sensor migration (beta): classic sensors, their migration state, and starting migrations.

import { graph } from "../lib/api.js";
import { h, mount, table, badge, empty, failure, toast, confirmDialog, loading } from "../lib/ui.js";

export const view = {
  route: "migration",
  title: "Migration",
  order: 70,
  allowed: (s) => s.can.readMigrations,
  render,
};

async function render(ctx) {
  const toolbar = h("div", { class: "toolbar" });
  const results = h("div", { id: "migration-results" });
  const selected = new Set();
  mount(ctx.root, h("h1", {}, "Sensor migration"), h("p", {}, "Classic sensors move to the unified sensor; eligible ones can start now."), toolbar, results);
  const load = async (first) => {
    if (first) mount(results, loading());
    const page = await graph("GET", "/sensorMigration?$top=200&$count=true", undefined, { version: "beta" });
    draw(ctx, toolbar, results, page.value || [], selected, () => load(false));
  };
  await load(true).catch((e) => mount(results, failure(e)));
  return { refresh: () => (selected.size ? Promise.resolve() : load(false)) };
}

function draw(ctx, toolbar, root, rows, selected, reload) {
  const may = ctx.session.can.migrate;
  const ready = rows.filter((r) => r.migrationState === "readyForMigration" || r.migrationState === "migrationFailed");
  const start = async (ids) => {
    if (!ids.length) return;
    const ok = await confirmDialog({ title: `Migrate ${ids.length} sensor${ids.length === 1 ? "" : "s"}?`, message: "Each stops its classic service and starts the unified sensor at its next check-in.", action: "Migrate" });
    if (!ok) return;
    try {
      const r = await graph("POST", "/sensorMigration/migrate", { sensorIds: ids }, { version: "beta" });
      const failed = (r.failedMigrationSensorIds || []).length;
      toast(`${(r.successfulMigrationSensorIds || []).length} started${failed ? `, ${failed} not eligible` : ""}.`, failed ? "error" : "ok");
      selected.clear();
      await reload();
    } catch (e) {
      toast(`${e.code}: ${e.message}`, "error");
    }
  };
  mount(
    toolbar,
    may
      ? [
          h("button", { type: "button", id: "migrate-selected", onclick: () => start([...selected]) }, "Migrate selected"),
          h("button", { type: "button", id: "migrate-ready", disabled: !ready.length, onclick: () => start(ready.map((r) => r.id)) }, `Migrate all ${ready.length} ready`),
        ]
      : h("p", { class: "hint" }, "Your roles allow reading migrations, not starting them."),
  );
  if (!rows.length) {
    mount(root, empty("No classic sensor left to migrate."));
    return;
  }
  const columns = [
    { title: "Sensor", cell: (s) => h("a", { href: ctx.link(`sensors/${encodeURIComponent(s.id)}`) }, s.displayName) },
    { title: "Domain", cell: (s) => s.domainName },
    { title: "Version", cell: (s) => s.version },
    { title: "Migration", cell: (s) => badge(s.migrationState) },
  ];
  if (may) {
    columns.unshift({
      title: "Select",
      class: "select",
      cell: (s) => h("input", { type: "checkbox", "aria-label": `Select ${s.displayName}`, checked: selected.has(s.id), onchange: (e) => (e.target.checked ? selected.add(s.id) : selected.delete(s.id)) }),
    });
  }
  mount(root, table("Sensors to migrate", columns, rows));
}
