// One sensor: its facts, its settings edited under the API's rules (the API's refusals shown
// as it words them), its health issues, its network adapters, and delete with confirmation.

import { graph } from "../lib/api.js";
import { h, mount, badge, when, failure, field, table, toast, confirmDialog, empty } from "../lib/ui.js";

export const view = {
  route: "sensors/:id",
  title: "Sensor",
  order: 21,
  nav: false,
  allowed: (s) => s.can.readSensors,
  render,
};

async function render(ctx) {
  const id = ctx.params.id;
  const path = `/sensors/${encodeURIComponent(id)}`;
  const facts = h("div", { id: "sensor-facts" });
  const settings = h("section", { id: "sensor-settings", "aria-labelledby": "settings-title" });
  const issues = h("section", { id: "sensor-issues", "aria-labelledby": "issues-title" });
  const adapters = h("section", { id: "sensor-adapters", "aria-labelledby": "adapters-title" });
  const heading = h("h1", {}, "Sensor");
  mount(ctx.root, h("p", {}, h("a", { href: ctx.link("sensors") }, "← Sensors")), heading, facts, settings, issues, adapters);

  let sensor = await graph("GET", path);
  heading.textContent = sensor.displayName;
  drawFacts(facts, sensor);
  drawSettings(ctx, settings, sensor, path, (s) => {
    sensor = s;
    drawFacts(facts, s);
  });
  const loadIssues = async () => {
    try {
      const list = await graph("GET", `${path}/healthIssues?$top=100`);
      drawIssues(ctx, issues, list.value || []);
    } catch (e) {
      mount(issues, h("h2", { id: "issues-title" }, "Health issues"), failure(e));
    }
  };
  const loadAdapters = async () => {
    try {
      const list = await graph("GET", `${path}/settings/networkAdapters`);
      drawAdapters(ctx, adapters, list.value || [], path);
    } catch (e) {
      mount(adapters, h("h2", { id: "adapters-title" }, "Network adapters"), failure(e));
    }
  };
  await Promise.all([loadIssues(), loadAdapters()]);
  return {
    refresh: async () => {
      sensor = await graph("GET", path);
      drawFacts(facts, sensor);
      await loadIssues();
    },
  };
}

function drawFacts(root, s) {
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  mount(
    root,
    h(
      "dl",
      { class: "facts" },
      row("Health", badge(s.healthStatus)),
      row("Deployment", badge(s.deploymentStatus)),
      row("Service", badge(s.serviceStatus)),
      row("Type", badge(s.sensorType, "type")),
      row("Domain", s.domainName),
      row("Version", s.version),
      row("Created", when(s.createdDateTime)),
      row("Open health issues", String(s.openHealthIssuesCount ?? "—")),
      row("Description", (s.settings && s.settings.description) || "—"),
    ),
  );
}

function drawSettings(ctx, root, s, path, saved) {
  const canEdit = ctx.session.can.manageSensors;
  const current = s.settings || {};
  const title = h("h2", { id: "settings-title" }, "Settings");
  if (!canEdit) {
    mount(root, title, h("p", { class: "hint" }, "Your roles allow reading this sensor, not changing it."));
    return;
  }
  const description = h("textarea", { name: "description", rows: 2, maxlength: 1024 });
  description.value = current.description || "";
  const dcs = h("textarea", { name: "dcs", rows: 3 });
  dcs.value = (current.domainControllerDnsNames || []).join("\n");
  const delayed = h("input", { type: "checkbox", name: "delayed", checked: !!current.isDelayedDeploymentEnabled });
  const error = h("div", { class: "form-error", role: "alert", id: "settings-error" });
  const form = h(
    "form",
    {
      id: "settings-form",
      onsubmit: async (e) => {
        e.preventDefault();
        mount(error);
        const change = { settings: {} };
        if (description.value !== (current.description || "")) change.settings.description = description.value;
        const names = dcs.value.split(/[\s,]+/).filter(Boolean);
        if (names.join("\n") !== (current.domainControllerDnsNames || []).join("\n")) change.settings.domainControllerDnsNames = names;
        if (delayed.checked !== !!current.isDelayedDeploymentEnabled) change.settings.isDelayedDeploymentEnabled = delayed.checked;
        if (Object.keys(change.settings).length === 0) {
          toast("Nothing changed.");
          return;
        }
        try {
          const updated = await graph("PATCH", path, change);
          toast("Settings saved.");
          const fresh = updated && updated.id ? updated : await graph("GET", path);
          saved(fresh);
          drawSettings(ctx, root, fresh, path, saved);
        } catch (err) {
          mount(error, h("strong", {}, `${err.code}: `), err.message);
        }
      },
    },
    field("Description", description),
    field("Domain controllers (one DNS name per line)", dcs, "Standalone sensors: the domain controllers whose traffic this sensor sees."),
    h("div", { class: "field check" }, h("label", {}, delayed, " Delayed update (updates 72 hours after a release)")),
    error,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Save settings"),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          id: "delete-sensor",
          onclick: async () => {
            const ok = await confirmDialog({
              title: "Delete this sensor?",
              message: `${s.displayName} stops being managed. Its agent is told to stop at its next check-in.`,
              action: "Delete sensor",
              typed: s.displayName,
            });
            if (!ok) return;
            try {
              await graph("DELETE", path);
              toast(`Deleted ${s.displayName}.`);
              ctx.navigate(ctx.link("sensors"));
            } catch (err) {
              mount(error, h("strong", {}, `${err.code}: `), err.message);
            }
          },
        },
        "Delete sensor",
      ),
    ),
  );
  mount(root, title, form);
}

function drawIssues(ctx, root, issues) {
  mount(
    root,
    h("h2", { id: "issues-title" }, "Health issues"),
    issues.length === 0
      ? empty("This sensor has no health issues.")
      : table("Health issues of this sensor", [
          { title: "Issue", cell: (i) => h("a", { href: ctx.link(`issues/${encodeURIComponent(i.id)}`) }, i.displayName) },
          { title: "Severity", cell: (i) => badge(i.severity, "severity") },
          { title: "Status", cell: (i) => badge(i.status) },
          { title: "Changed", cell: (i) => when(i.lastModifiedDateTime) },
        ], issues),
  );
}

function drawAdapters(ctx, root, adapters, path) {
  const canEdit = ctx.session.can.manageSensors;
  mount(
    root,
    h("h2", { id: "adapters-title" }, "Network adapters"),
    adapters.length === 0
      ? empty("No network adapter reported yet.", "Adapters appear after the sensor's first check-in.")
      : table("Network adapters", [
          { title: "Name", cell: (a) => a.name || a.displayName || a.id },
          { title: "Type", cell: (a) => a.adapterType || "—" },
          {
            title: "Captures traffic",
            cell: (a) =>
              canEdit
                ? h("input", {
                    type: "checkbox",
                    checked: !!a.isEnabled,
                    "aria-label": `Capture on ${a.name || a.id}`,
                    onchange: async (e) => {
                      try {
                        await graph("PATCH", `${path}/settings/networkAdapters/${encodeURIComponent(a.id)}`, { isEnabled: e.target.checked });
                        toast("Adapter updated.");
                      } catch (err) {
                        e.target.checked = !e.target.checked;
                        toast(`${err.code}: ${err.message}`, "error");
                      }
                    },
                  })
                : a.isEnabled ? "yes" : "no",
          },
        ], adapters),
  );
}
