// Building the page: every piece of text goes in through textContent (tenant ids and
// model names are user input), never innerHTML.
import { saveBlob } from "./api.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function panel(title, { actions = [], id } = {}, ...body) {
  return h("section", { class: "panel", id },
    h("div", { class: "panel-head" }, h("h2", { text: title }), h("span", {}, ...actions)),
    ...body);
}

export function card(label, text, { sub, figure, value } = {}) {
  return h("div", { class: "card" },
    h("div", { class: "label", text: label }),
    h("div", { class: "value", text, dataset: figure ? { figure, value } : undefined }),
    sub ? h("div", { class: "sub", text: sub }) : null);
}

export function empty(message) {
  return h("p", { class: "empty", text: message });
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert", text: error.message || String(error) });
}

function csvCell(value) {
  let s = value === null || value === undefined ? "" : String(value);
  // A cell a spreadsheet would run as a formula (a tenant id "=HYPERLINK(...)") is
  // prefixed with ' ; negative numbers stay numbers.
  if (/^[=+@\t\r]/.test(s) || /^-(?![\d.])/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns, rows) {
  const lines = [columns.map((c) => csvCell(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(","));
  return lines.join("\n") + "\n";
}

// A table of ``rows`` with a CSV button exporting exactly what the table shows (raw values:
// money as the API's decimal strings). ``columns``: {label, value(row), text?(row), num?,
// href?(row)}.
export function table(name, columns, rows, { emptyText, title, actions = [] } = {}) {
  const csv = h("button", {
    type: "button", class: "csv", dataset: { csv: name }, text: "CSV",
    title: `Download this table as ${name}.csv`,
    onclick: () => saveBlob(new Blob([toCsv(columns, rows)], { type: "text/csv" }), `${name}.csv`),
  });
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "", text: c.label })));
  const body = rows.map((row) => h("tr", {}, columns.map((c) => {
    const text = c.text ? c.text(row) : String(c.value(row) ?? "–");
    const cell = h("td", { class: c.num ? "num" : c.wrap ? "wrap" : "" });
    const href = c.href ? c.href(row) : null;
    cell.append(href ? h("a", { href, text }) : document.createTextNode(text));
    return cell;
  })));
  const content = rows.length
    ? h("div", { class: "table-wrap" }, h("table", { dataset: { table: name } },
      h("thead", {}, head), h("tbody", {}, body)))
    : empty(emptyText || "Nothing to show for this range.");
  return panel(title || name, { actions: [...actions, rows.length ? csv : null] }, content);
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter(Boolean));
}
