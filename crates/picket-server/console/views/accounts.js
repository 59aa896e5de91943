// Identity accounts and their response actions, as each source system offers them.

import { graph, literal } from "../lib/api.js";
import { h, mount, table, badge, empty, failure, field, toast, confirmDialog, loading, words } from "../lib/ui.js";

export const view = {
  route: "accounts",
  title: "Identity accounts",
  order: 60,
  allowed: (s) => s.can.readAccounts,
  render,
};

async function render(ctx) {
  const name = ctx.query.get("name") || "";
  const results = h("div", { id: "account-results" });
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter identity accounts",
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate(ctx.link("accounts", Object.fromEntries(new FormData(e.target).entries())));
      },
    },
    field("Name starts with", h("input", { name: "name", type: "search", value: name })),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Apply")),
  );
  mount(ctx.root, h("h1", {}, "Identity accounts"), form, results);
  const load = async (first) => {
    const params = new URLSearchParams({ $top: "100", $count: "true" });
    if (name) params.set("$filter", `startswith(displayName, ${literal(name)})`);
    if (first) mount(results, loading());
    const page = await graph("GET", `/identityAccounts?${params}`, undefined, { version: "beta" });
    draw(ctx, results, page.value || [], () => load(false));
  };
  await load(true).catch((e) => mount(results, failure(e)));
  return { refresh: () => load(false) };
}

function draw(ctx, root, rows, reload) {
  if (!rows.length) {
    mount(root, empty("No identity account matches.", "Domain controllers report their directory's accounts."));
    return;
  }
  const may = ctx.session.can.accountActions;
  const act = async (identity, account, action) => {
    const ok = await confirmDialog({
      title: `${words(action)} ${identity.displayName}?`,
      message: `In ${account.identityProvider} (${account.identifier}).`,
      action: words(action),
    });
    if (!ok) return;
    try {
      const r = await graph(
        "POST",
        `/identityAccounts/${encodeURIComponent(identity.id)}/invokeAction`,
        { accountId: account.identifier, action, identityProvider: account.identityProvider },
        { version: "beta" },
      );
      toast(`${words(action)} accepted (correlation ${r.correlationId}).`);
      await reload();
    } catch (e) {
      toast(`${e.code}: ${e.message}`, "error");
    }
  };
  mount(
    root,
    table("Identity accounts", [
      { title: "Name", cell: (i) => i.displayName },
      { title: "Domain", cell: (i) => i.domain },
      { title: "Enabled", cell: (i) => badge(i.isEnabled ? "enabled" : "disabled") },
      {
        title: "Accounts and actions",
        cell: (i) =>
          h(
            "ul",
            { class: "accounts" },
            (i.accounts || []).map((a) =>
              h(
                "li",
                {},
                h("span", { class: "provider" }, `${a.identityProvider}: ${a.identifier}`),
                may ? (a.actions || []).map((action) => h("button", { type: "button", class: "small", onclick: () => act(i, a, action) }, words(action))) : null,
              ),
            ),
          ),
      },
    ], rows),
  );
}
