// Automatic auditing: whether sensors configure their hosts' Windows auditing themselves.

import { graph } from "../lib/api.js";
import { h, mount, toast, failure } from "../lib/ui.js";

export const view = {
  route: "auditing",
  title: "Auto auditing",
  order: 80,
  allowed: (s) => s.can.readAuditing,
  render,
};

const PATH = "/settings/autoAuditingConfiguration";

async function render(ctx) {
  const body = h("section", { id: "auditing" });
  mount(ctx.root, h("h1", {}, "Automatic auditing"), body);
  const load = async () => draw(ctx, body, await graph("GET", PATH));
  await load().catch((e) => mount(body, failure(e)));
  return { refresh: load };
}

function draw(ctx, root, config) {
  const on = !!config.isAutomatic;
  const state = h("p", { id: "auditing-state" }, on ? "On: sensors configure the auditing their detections need." : "Off: each host's auditing is configured by hand (sensors report drift as health issues).");
  if (!ctx.session.can.configureAuditing) {
    mount(root, state, h("p", { class: "hint" }, "Your roles allow reading this setting, not changing it."));
    return;
  }
  const toggle = h(
    "button",
    {
      type: "button",
      id: "auditing-toggle",
      "aria-pressed": on ? "true" : "false",
      onclick: async () => {
        try {
          const next = await graph("PATCH", PATH, { isAutomatic: !on });
          toast(`Automatic auditing is now ${next && next.isAutomatic !== undefined ? (next.isAutomatic ? "on" : "off") : !on ? "on" : "off"}.`);
          draw(ctx, root, next && next.isAutomatic !== undefined ? next : { isAutomatic: !on });
        } catch (e) {
          toast(`${e.code}: ${e.message}`, "error");
        }
      },
    },
    on ? "Turn off" : "Turn on",
  );
  mount(root, state, toggle);
}
