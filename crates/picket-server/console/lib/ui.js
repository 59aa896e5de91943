// DOM building for every view. Text only ever goes in through textContent and attributes
// through setAttribute, never through HTML strings, so whatever a sensor's name or description
// holds is shown as text and never runs.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "value" && "value" in el) {
      el.value = value;
    } else if (name === "checked" || name === "disabled" || name === "selected") {
      el[name] = !!value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(root, ...children) {
  clear(root);
  append(root, children);
}

/// Loading, empty and error states look the same everywhere.
export function loading(what = "Loading…") {
  return h("p", { class: "state loading", role: "status" }, what);
}

export function empty(what, hint) {
  return h("div", { class: "state empty" }, h("p", {}, what), hint ? h("p", { class: "hint" }, hint) : null);
}

export function failure(error, retry) {
  return h(
    "div",
    { class: "state error", role: "alert" },
    h("p", {}, h("strong", {}, error.code ? `${error.code}: ` : "Error: "), error.message || String(error)),
    error.requestId ? h("p", { class: "hint" }, `request-id ${error.requestId}`) : null,
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null,
  );
}

export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.className = `toast show ${kind}`;
  el.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.className = "toast"), 5000);
}

/// Names from Graph's enums, spaced for people: notHealthyHigh → not healthy high.
export function words(value) {
  if (value === null || value === undefined || value === "") return "—";
  return String(value).replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
}

export function badge(value, family = "status") {
  return h("span", { class: `badge ${family}-${String(value || "none")}` }, words(value));
}

export function when(text) {
  if (!text) return "—";
  const t = new Date(text);
  if (Number.isNaN(t.getTime())) return String(text);
  return t.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/// A table: columns are {title, cell(row) → Node|string, class?}.
export function table(caption, columns, rows, options = {}) {
  return h(
    "table",
    { class: "grid" },
    h("caption", { class: options.showCaption ? "" : "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class }, c.title)))),
    h("tbody", {}, rows.map((row) => h("tr", { "data-id": row.id }, columns.map((c) => h("td", { class: c.class }, c.cell(row)))))),
  );
}

/// Horizontal bars with their numbers: readable without colour, by keyboard and screen reader.
export function bars(title, counts, family = "status") {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((n, [, v]) => n + v, 0);
  return h(
    "figure",
    { class: "bars" },
    h("figcaption", {}, title),
    entries.length === 0
      ? h("p", { class: "hint" }, "Nothing to count yet.")
      : h(
          "ul",
          {},
          entries.map(([key, value]) =>
            h(
              "li",
              {},
              h("span", { class: "label" }, badge(key, family)),
              h("span", { class: "bar", "aria-hidden": "true" }, h("span", { class: `fill ${family}-${key}`, style: null, "data-width": total ? Math.max(1, Math.round((value / total) * 100)) : 0 })),
              h("span", { class: "count" }, String(value)),
            ),
          ),
        ),
  );
}

/// Bar widths go through the CSSOM (allowed by the style-src policy), not a style attribute.
export function sizeBars(root) {
  for (const el of root.querySelectorAll(".fill[data-width]")) {
    el.style.width = `${el.getAttribute("data-width")}%`;
  }
}

/// A modal confirmation; resolves true when confirmed. With `typed`, the user must type it.
export function confirmDialog({ title, message, action = "Confirm", typed }) {
  return new Promise((resolve) => {
    const input = typed ? h("input", { type: "text", id: "confirm-typed", autocomplete: "off" }) : null;
    const ok = h("button", { type: "submit", class: "danger", disabled: !!typed }, action);
    if (input) input.addEventListener("input", () => (ok.disabled = input.value !== typed));
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: "confirm-title" }, title),
        h("p", {}, message),
        input ? h("label", { for: "confirm-typed" }, `Type ${typed} to confirm`) : null,
        input,
        h("div", { class: "actions" }, h("button", { type: "button", value: "cancel", onclick: () => dialog.close("cancel") }, "Cancel"), ok),
      ),
    );
    ok.addEventListener("click", (e) => {
      e.preventDefault();
      dialog.close("ok");
    });
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (input || ok).focus();
  });
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}
