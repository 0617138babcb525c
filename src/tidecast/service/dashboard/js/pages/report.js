// Business report: forecast totals by attribute, high and low demand, volatile items, spikes and
// drops, accuracy warnings and inventory guidance, from GET /v1/reports/{name}?kind=business
// (the same report `tidecast report` writes). Item ids open the item in the forecast explorer.

import { api, feature, path } from "../api.js";
import { bar, clear, day, empty, h, num, stat, table } from "../dom.js";
import { sourceSelect, sources } from "./sources.js";

const LEVELS = ["0.9", "0.95", "0.98", "0.99"];

export async function render(main, params, ctx) {
  const parts = [h("h1", {}, "Business report")];
  if (!feature("reports")) {
    clear(main, parts, empty("This service does not offer reports."));
    return;
  }
  const options = await sources();
  if (!options.length) {
    clear(main, parts, empty("No models yet: the report reads a trained model's forecast."));
    return;
  }
  const source = params.source || options[0].value;
  const level = LEVELS.includes(params.service_level) ? params.service_level : "0.95";
  const box = h("div", { id: "report-view" });
  clear(
    main,
    parts,
    h("div", { class: "controls" },
      sourceSelect(options, source, (value) => ctx.go("report", { ...params, source: value })),
      h("label", {}, "Service level", h("select", { id: "service-level", onchange: (e) => ctx.go("report", { ...params, source, service_level: e.target.value }) },
        LEVELS.map((l) => h("option", { value: l, selected: l === level }, `${Math.round(Number(l) * 100)}%`))))),
    box,
  );
  const query = new URLSearchParams({ kind: "business", format: "json", service_level: level });
  const { reports } = await api(`${path("/v1/reports", source)}?${query}`);
  draw(box, reports[0], source);
}

function draw(box, report, source) {
  const s = report.summary || {};
  const parts = [
    h("div", { class: "grid" },
      stat("items", num(s.items)),
      stat("forecast total", num(s.forecast_total)),
      stat("from", s.start || "–"),
      stat("to", s.end || "–"),
      stat("service level", s.service_level ? `${Math.round(s.service_level * 100)}%` : "–")),
  ];
  for (const note of report.notes || []) parts.push(h("p", { class: "muted" }, note));
  for (const section of report.sections) {
    parts.push(h("h2", {}, section.title));
    if (section.text) parts.push(h("p", { class: "muted" }, section.text));
    for (const chart of section.charts || []) if (chart.type === "bar") parts.push(barChart(chart));
    for (const [name, rows] of Object.entries(section.tables)) {
      if (!rows.length) {
        parts.push(empty(`None (${name.replaceAll("_", " ")}).`));
        continue;
      }
      parts.push(h("details", { open: section.charts && section.charts.length ? undefined : true },
        h("summary", {}, `${name.replaceAll("_", " ")} (${rows.length} rows)`), recordTable(rows, source)));
    }
  }
  clear(box, h("div", { class: "card" }, parts));
}

function recordTable(rows, source) {
  const columns = Object.keys(rows[0]).map((key) => ({
    label: key.replaceAll("_", " "),
    num: typeof rows[0][key] === "number",
    value: (r) =>
      key === "item_id"
        ? h("a", { href: `#/explorer?${new URLSearchParams({ source, item: r[key] })}` }, r[key])
        : cellText(r[key]),
  }));
  return table(columns, rows);
}

// A report table's value as the page writes it: numbers formatted, a midnight time as its date
// (the JSON's "1992-09-10T00:00:00", which the page showed as it came), nothing as a dash.
export function cellText(value) {
  if (typeof value === "number") return num(value);
  return value === null || value === undefined ? "–" : day(value);
}

// A bar chart of the report's data (label -> value) as a small table of bars.
function barChart(chart) {
  const [name, values] = Object.entries(chart.series)[0] || ["", []];
  const max = Math.max(...values.filter((v) => typeof v === "number"), 0);
  return h("figure", { class: "card" },
    h("figcaption", {}, h("b", {}, chart.title)),
    table(
      [
        { label: chart.labels.length ? "" : name, value: (r) => r.label },
        { label: "", value: (r) => h("div", { class: "barcell" }, bar(r.value, max)) },
        { label: name, value: (r) => num(r.value), num: true },
      ],
      chart.labels.map((label, i) => ({ label, value: values[i] })),
    ));
}
