// Deployment: the access key (revealed on request, which the audit log records; regenerated
// after confirmation), the package, the releases and each domain's rollout.

import { graph, consoleApi } from "../lib/api.js";
import { h, mount, table, when, toast, confirmDialog, failure, bars, sizeBars, empty } from "../lib/ui.js";

export const view = {
  route: "deployment",
  title: "Deployment",
  order: 50,
  allowed: (s) => s.can.readSensors,
  render,
};

async function render(ctx) {
  const key = h("section", { id: "access-key", "aria-labelledby": "key-title" });
  const pkg = h("section", { id: "package", "aria-labelledby": "package-title" });
  const rollout = h("section", { id: "rollout", "aria-labelledby": "rollout-title" });
  mount(ctx.root, h("h1", {}, "Deployment"), key, pkg, rollout);
  drawKey(ctx, key);
  const loadRollout = async () => drawRollout(rollout, await consoleApi("/overview"));
  await Promise.all([
    graph("GET", "/sensors/microsoft.graph.security.getDeploymentPackageUri()")
      .then((p) => drawPackage(pkg, p))
      .catch((e) => mount(pkg, h("h2", { id: "package-title" }, "Package"), failure(e))),
    loadRollout().catch((e) => mount(rollout, h("h2", { id: "rollout-title" }, "Releases and rollout"), failure(e))),
  ]);
  return { refresh: loadRollout };
}

function drawKey(ctx, root) {
  const title = h("h2", { id: "key-title" }, "Deployment access key");
  if (!ctx.session.can.accessKey) {
    mount(root, title, h("p", { class: "hint" }, "Your roles do not include the deployment access key."));
    return;
  }
  const shown = h("output", { id: "key-value", class: "secret", "aria-live": "polite" }, "hidden");
  const reveal = h(
    "button",
    {
      type: "button",
      id: "reveal-key",
      onclick: async () => {
        try {
          const k = await graph("GET", "/sensors/microsoft.graph.security.getDeploymentAccessKey()");
          shown.textContent = k.deploymentAccessKey;
          toast("Key shown; the audit log records who saw it.");
        } catch (e) {
          toast(`${e.code}: ${e.message}`, "error");
        }
      },
    },
    "Reveal",
  );
  const regenerate = h(
    "button",
    {
      type: "button",
      class: "danger",
      id: "regenerate-key",
      onclick: async () => {
        const ok = await confirmDialog({
          title: "Regenerate the access key?",
          message: "Sensors not yet installed will need the new key; installed sensors are not affected.",
          action: "Regenerate",
        });
        if (!ok) return;
        try {
          const k = await graph("POST", "/sensors/microsoft.graph.security.regenerateDeploymentAccessKey", {});
          shown.textContent = k.deploymentAccessKey;
          toast("A new access key was made.");
        } catch (e) {
          toast(`${e.code}: ${e.message}`, "error");
        }
      },
    },
    "Regenerate",
  );
  mount(root, title, h("p", {}, "The key enrols new sensors. Keep it out of tickets and chat."), h("p", {}, shown), h("div", { class: "actions" }, reveal, regenerate));
}

function drawPackage(root, p) {
  mount(
    root,
    h("h2", { id: "package-title" }, "Package"),
    h("p", {}, h("a", { href: p.downloadUrl, id: "package-link", rel: "noopener" }, "Download the sensor package"), p.version ? ` (version ${p.version})` : ""),
  );
}

function drawRollout(root, s) {
  const releases = [...(s.releases || [])].reverse();
  const latest = releases[0] && releases[0].version;
  const domains = Object.entries(s.domains || {});
  mount(
    root,
    h("h2", { id: "rollout-title" }, "Releases and rollout"),
    releases.length
      ? table("Releases", [
          { title: "Version", cell: (r) => r.version },
          { title: "Published", cell: (r) => when(r.publishedDateTime) },
        ], releases)
      : empty("No release published.", "`picket releases publish VERSION` adds one."),
    domains.length
      ? table("Rollout per domain", [
          { title: "Domain", cell: ([d]) => d },
          { title: "Sensors", cell: ([, c]) => String(c.sensors) },
          { title: latest ? `On ${latest}` : "On the latest", cell: ([, c]) => (latest ? `${c.byVersion[latest] || 0} (${Math.round(((c.byVersion[latest] || 0) / c.sensors) * 100)}%)` : "—") },
          { title: "Updating", cell: ([, c]) => String(c.byDeploymentStatus.updating || 0) },
          { title: "Update failed", cell: ([, c]) => String(c.byDeploymentStatus.updateFailed || 0) },
          { title: "Outdated", cell: ([, c]) => String(c.byDeploymentStatus.outdated || 0) },
        ], domains.map(([d, c]) => Object.assign([d, c], { id: d })))
      : null,
    bars("Sensors by version", s.byVersion, "version"),
  );
  sizeBars(root);
}
