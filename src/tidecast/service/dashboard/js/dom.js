// Small DOM helpers: elements built from data (never from HTML strings, so nothing a model or
// item name holds can become markup), number and date formats, tables and empty states.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "style") Object.assign(el.style, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function num(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(2);
  return value.toLocaleString(undefined, { maximumFractionDigits: abs >= 100 ? 1 : digits });
}

// An ISO time at midnight as its date alone ("1992-09-10T00:00:00" -> "1992-09-10"): daily and
// weekly forecasts' timestamps, as the HTML report writes them; any other text is left as it is.
export function day(text) {
  return typeof text === "string" ? text.replace(/^(\d{4}-\d\d-\d\d)T00:00:00(\.0+)?(Z|\+00:00)?$/, "$1") : text;
}

export function pct(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function duration(startIso, endIso) {
  if (!startIso) return "–";
  const seconds = Math.max(0, ((endIso ? new Date(endIso) : new Date()) - new Date(startIso)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function badge(text) {
  return h("span", { class: `badge ${text}` }, text);
}

export function empty(text) {
  return h("div", { class: "empty" }, text);
}

export function failure(error) {
  return h("p", { class: "error", role: "alert" }, `Could not load: ${error.message || error}`);
}

// A table from column specs {label, value(row) -> text|Node, num?, narrow?} and rows.
export function table(columns, rows, onRow) {
  const cls = (c) => [c.num ? "num" : "", c.narrow ? "hide-narrow" : ""].join(" ").trim() || undefined;
  const head = h("tr", {}, columns.map((c) => h("th", { class: cls(c), scope: "col" }, c.label)));
  const body = rows.map((row) =>
    h(
      "tr",
      { class: onRow ? "clickable" : undefined, onclick: onRow ? () => onRow(row) : undefined },
      columns.map((c) => h("td", { class: cls(c) }, c.value(row))),
    ),
  );
  return h("div", { class: "scroll" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
}

// A horizontal bar scaled to `max`, for scores in tables.
export function bar(value, max, bad = false) {
  const width = max > 0 && value !== null && value !== undefined ? Math.min(100, (100 * value) / max) : 0;
  return h("div", { class: bad ? "bar bad" : "bar", style: { width: `${width}%` } });
}

export function stat(label, value) {
  return h("div", { class: "stat" }, h("b", {}, value), h("span", {}, label));
}
