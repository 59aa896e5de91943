// One health issue: what the API says about it (recommendations and commands as given) and
// its triage.

import { graph } from "../lib/api.js";
import { h, mount, badge, when, toast, failure } from "../lib/ui.js";

export const view = {
  route: "issues/:id",
  title: "Health issue",
  order: 31,
  nav: false,
  allowed: (s) => s.can.readHealth,
  render,
};

async function render(ctx) {
  const path = `/healthIssues/${encodeURIComponent(ctx.params.id)}`;
  const body = h("div", { id: "issue-body" });
  mount(ctx.root, h("p", {}, h("a", { href: ctx.link("issues") }, "← Health issues")), body);
  const load = async () => draw(ctx, body, await graph("GET", path), path, load);
  await load();
  return { refresh: load };
}

function list(title, items, code = false) {
  if (!items || !items.length) return null;
  return h("section", {}, h("h2", {}, title), h("ul", {}, items.map((x) => h("li", {}, code ? h("code", {}, x) : x))));
}

function draw(ctx, root, i, path, reload) {
  const error = h("div", { class: "form-error", role: "alert" });
  const set = async (status) => {
    try {
      await graph("PATCH", path, { status });
      toast(`Health issue now ${status}.`);
      await reload();
    } catch (e) {
      mount(error, failure(e));
    }
  };
  mount(
    root,
    h("h1", {}, i.displayName),
    h("p", {}, badge(i.severity, "severity"), " ", badge(i.status), " ", h("span", { class: "hint" }, `${i.healthIssueType} issue, created ${when(i.createdDateTime)}, changed ${when(i.lastModifiedDateTime)}`)),
    h("p", { class: "description" }, i.description || ""),
    ctx.session.can.manageHealth
      ? h(
          "div",
          { class: "actions" },
          i.status !== "closed" ? h("button", { type: "button", onclick: () => set("closed") }, "Close") : null,
          i.status !== "suppressed" ? h("button", { type: "button", onclick: () => set("suppressed") }, "Suppress") : null,
          i.status !== "open" ? h("button", { type: "button", onclick: () => set("open") }, "Reopen") : null,
        )
      : null,
    error,
    list("Recommendations", i.recommendations),
    list("Commands", i.recommendedActionCommands, true),
    list("Domain controllers", i.sensorDNSNames),
    list("Domains", i.domainNames),
    list("More information", i.additionalInformation),
  );
}
