// Fleet overview: counts by health, deployment and service status and by version, open health
// issues by severity, and the sensors silent now. Live.

import { consoleApi, graph } from "../lib/api.js";
import { h, mount, bars, sizeBars, empty, failure, badge, when } from "../lib/ui.js";

export const view = {
  route: "",
  title: "Overview",
  order: 10,
  allowed: (s) => s.can.readSensors,
  render,
};

const SILENT = "deploymentStatus eq 'disconnected'";

async function render(ctx) {
  const body = h("div", { id: "overview-body" });
  mount(ctx.root, h("h1", {}, "Fleet overview"), body);
  const refresh = async () => {
    const [summary, silent] = await Promise.all([
      consoleApi("/overview"),
      graph("GET", `/sensors?$filter=${encodeURIComponent(SILENT)}&$top=10&$count=true&$select=id,displayName,domainName,deploymentStatus,healthStatus`),
    ]);
    draw(ctx, body, summary, silent);
  };
  try {
    await refresh();
  } catch (e) {
    mount(body, failure(e, refresh));
  }
  return { refresh };
}

function card(label, value, href) {
  const inner = [h("span", { class: "value" }, String(value)), h("span", { class: "label" }, label)];
  return h("li", { class: "card" }, href ? h("a", { href }, inner) : inner);
}

function draw(ctx, body, s, silent) {
  if (!s.sensors) {
    mount(
      body,
      empty("No sensors yet.", "Install the deployment package on a domain controller, or activate a sensor candidate."),
      h("p", {}, h("a", { href: ctx.link("deployment") }, "Deployment: access key and package")),
    );
    return;
  }
  const open = Object.values(s.openIssuesBySeverity || {}).reduce((a, b) => a + b, 0);
  const silentCount = silent["@odata.count"] ?? (silent.value || []).length;
  const health = (status) => ctx.link("sensors", { health: status });
  mount(
    body,
    h(
      "ul",
      { class: "cards", "aria-label": "Totals" },
      card("sensors", s.sensors, ctx.link("sensors")),
      card("healthy", s.byHealthStatus.healthy || 0, health("healthy")),
      card("not healthy (high)", s.byHealthStatus.notHealthyHigh || 0, health("notHealthyHigh")),
      card("open health issues", open, ctx.link("issues", { status: "open" })),
      card("silent now", silentCount, ctx.link("sensors", { deployment: "disconnected" })),
    ),
    h(
      "div",
      { class: "charts" },
      bars("By health status", s.byHealthStatus),
      bars("By deployment status", s.byDeploymentStatus),
      bars("By service status", s.byServiceStatus),
      bars("By version", s.byVersion, "version"),
      bars("Open health issues by severity", s.openIssuesBySeverity, "severity"),
    ),
    h(
      "section",
      { "aria-labelledby": "silent-title" },
      h("h2", { id: "silent-title" }, "Sensors silent now"),
      (silent.value || []).length === 0
        ? h("p", { class: "hint", id: "silent-none" }, "Every sensor has checked in recently.")
        : h(
            "ul",
            { class: "silent", id: "silent-list" },
            silent.value.map((x) =>
              h("li", {}, h("a", { href: ctx.link(`sensors/${encodeURIComponent(x.id)}`) }, x.displayName), " ", h("span", { class: "hint" }, x.domainName), " ", badge(x.healthStatus)),
            ),
          ),
    ),
    h("p", { class: "hint" }, `Fleet time ${when(s.now)}`),
  );
  sizeBars(body);
}
