// Forecast explorer: search an item of a model version or endpoint, then see its recent
// history, the forecast with its p10–p90 band, the backtest forecasts beside the actuals they
// were scored on, a covariate's active periods shaded (over the forecast too, as the plan the
// forecast assumed, where the source keeps it), and (where the service keeps actuals) the
// actuals observed since the forecast was made.

import { api, feature, path } from "../api.js";
import { clear, day, empty, h, num } from "../dom.js";
import { align, epoch, nonZeroSpans, timeChart } from "../charts.js";
import { sourceSelect, sources } from "./sources.js";

const SEARCH_DELAY_MS = 200;
// History shown before the forecast: fewer points on a phone, so the forecast stays readable.
const historyPoints = () => (window.innerWidth < 640 ? 70 : 200);

export async function render(main, params, ctx) {
  const options = await sources();
  if (!options.length) {
    clear(main, h("h1", {}, "Forecast explorer"), empty("No models yet: train one, and its forecasts show here."));
    return;
  }
  const source = params.source || options[0].value;
  const search = h("input", { id: "item-search", type: "search", placeholder: "Search an item id…", autocomplete: "off", value: params.item || "" });
  const suggestions = h("ul", { class: "suggestions", id: "item-suggestions", hidden: true });
  const view = h("div", { id: "item-view" });
  clear(
    main,
    h("h1", {}, "Forecast explorer"),
    h("div", { class: "controls" },
      sourceSelect(options, source, (value) => ctx.go("explorer", { source: value })),
      h("label", { style: { flex: "1 1 16rem" } }, "Item", search)),
    suggestions,
    view,
  );
  const pick = (item) => ctx.go("explorer", { source, item });
  let timer = null;
  const suggest = async () => {
    const found = await api(`${path("/v1/items", source)}?q=${encodeURIComponent(search.value)}&limit=20`);
    suggestions.hidden = !found.items.length;
    clear(suggestions, found.items.map((item) =>
      h("li", { tabindex: 0, onclick: () => pick(item), onkeydown: (e) => e.key === "Enter" && pick(item) }, item)));
    return found;
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => suggest().catch(() => {}), SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", async (event) => {
    if (event.key !== "Enter") return;
    const found = await suggest();
    const exact = found.items.find((i) => i === search.value.trim());
    if (exact || found.items.length) pick(exact || found.items[0]);
    else clear(view, h("p", { class: "error", role: "alert" }, `No item of ${source} matches "${search.value.trim()}".`));
  });
  ctx.onLeave(() => clearTimeout(timer));
  if (!params.item) {
    const first = await suggest();
    clear(view, empty(`${first.total} items in ${source}: search one to see its history and forecast.`));
    return;
  }
  try {
    await showItem(view, source, params.item, ctx);
  } catch (error) {
    // An unknown item (a stale link, a typo in the address) keeps the search box to find another.
    clear(view, h("p", { class: "error", role: "alert" }, error.message));
  }
}

async function showItem(view, source, itemId, ctx) {
  const item = await api(`${path("/v1/items", source, itemId)}?points=${historyPoints()}`);
  let actuals = null;
  if (feature("actuals") && item.forecast.timestamp.length) {
    const since = item.history.timestamp[item.history.timestamp.length - 1] || item.forecast.timestamp[0];
    actuals = await api(`/v1/actuals?item_id=${encodeURIComponent(itemId)}&since=${encodeURIComponent(since)}`)
      .then((body) => body.actuals || [])
      .catch(() => null);
  }
  const binary = item.covariates.filter((c) => flagSteps(item, c.name).values.some((v) => v !== null && v !== 0));
  const chartBox = h("div", { class: "chart", id: "item-chart", dataset: { item: itemId } });
  const marked = h("select", { id: "covariate" },
    h("option", { value: "" }, "none"),
    binary.map((c) => h("option", { value: c.name, selected: c.name === shadeFirst(binary) }, `${c.name} (${c.role})`)));
  const attributes = Object.entries(item.attributes).map(([k, v]) => `${k}: ${v}`).join(" · ");
  clear(
    view,
    h("div", { class: "card" },
      h("h2", { id: "item-title" }, itemId),
      h("p", { class: "muted" }, [attributes, `source ${item.source}`, `horizon ${item.horizon}`, item.frequency && `frequency ${item.frequency}`]
        .filter(Boolean).join(" · ")),
      binary.length ? h("div", { class: "controls" }, h("label", {}, "Shade when non-zero", marked)) : null,
      chartBox,
      h("p", { class: "legend-note" }, legendNote(item, actuals, binary.length > 0)),
      item.notes.length ? h("ul", { class: "muted" }, item.notes.map((n) => h("li", {}, n))) : null,
      forecastTable(item)),
  );
  let chart = null;
  const draw = () => {
    if (chart) chart.destroy();
    chart = drawChart(chartBox, item, actuals, binary.find((c) => c.name === marked.value));
  };
  marked.addEventListener("change", draw);
  draw();
  ctx.onLeave(() => chart && chart.destroy());
}

// The covariate shaded at first: a flag that is on some steps and off others (a promotion, a
// deal), never a level such as a price, which is non-zero everywhere and shaded the whole chart.
export function shadeFirst(covariates) {
  const flag = covariates.find((c) => {
    const seen = c.values.filter((v) => v !== null);
    return seen.some((v) => v === 0) && seen.some((v) => v !== 0) && seen.every((v) => v === 0 || v === 1);
  });
  return flag ? flag.name : "";
}

// A covariate's values over the history, then over the forecast where the source kept the plan
// the forecast assumed (`future_covariates`): one run of steps, so a flag on across the forecast
// origin is one span, shaded alike on both sides.
export function flagSteps(item, name) {
  const past = item.covariates.find((c) => c.name === name);
  const planned = (item.future_covariates || []).find((c) => c.name === name);
  return {
    x: [...(past ? item.history.timestamp : []), ...(planned ? item.forecast.timestamp : [])],
    values: [...(past ? past.values : []), ...(planned ? planned.values : [])],
  };
}

function legendNote(item, actuals, shading) {
  const band = item.band ? `${item.band[0]}–${item.band[1]}` : "no";
  const parts = [`Shaded blue: the forecast's ${band} band.`];
  if (shading) {
    const over = (item.future_covariates || []).length ? "the history and the forecast (its plan)" : "the history";
    parts.push(`Shaded amber: the covariate chosen, where non-zero, over ${over}.`);
  }
  if (item.backtests.length) parts.push(`Dashed purple: the backtest forecasts of ${item.backtests.length} window(s), against the history (the actuals).`);
  if (actuals) parts.push(actuals.length ? `Red points: ${actuals.length} actuals observed since.` : "No actuals received since the forecast.");
  return parts.join(" ");
}

function merged(backtests, column) {
  const y = backtests.flatMap((b) => (column && b[column]) || b.timestamp.map(() => null));
  return { x: backtests.flatMap((b) => b.timestamp), y };
}

// The series drawn, in order; those without a value are left out of the chart and its legend.
function drawChart(box, item, actuals, covariate) {
  const f = item.forecast;
  const [lo, hi] = item.band || [null, null];
  const candidates = [
    { key: "history", x: item.history.timestamp, y: item.history.target, style: { stroke: "#1d2733" } },
    { key: "forecast", x: f.timestamp, y: f.mean || [], style: { stroke: "#1f6feb", width: 2 } },
    { key: "lo", label: lo, x: f.timestamp, y: lo ? f[lo] : [], style: { stroke: "rgba(31,111,235,.45)", width: 1 } },
    { key: "hi", label: hi, x: f.timestamp, y: hi ? f[hi] : [], style: { stroke: "rgba(31,111,235,.45)", width: 1 } },
    { key: "backtest", ...merged(item.backtests, "mean"), style: { stroke: "#8250df", dash: [5, 4] } },
    { key: "backtest lo", label: `backtest ${lo}`, ...merged(item.backtests, lo), style: { stroke: "rgba(130,80,223,.25)", width: 1 } },
    { key: "backtest hi", label: `backtest ${hi}`, ...merged(item.backtests, hi), style: { stroke: "rgba(130,80,223,.25)", width: 1 } },
    { key: "actuals", x: (actuals || []).map((a) => a.timestamp), y: (actuals || []).map((a) => a.value), style: { stroke: "#cf222e", pointsOnly: true } },
  ];
  const drawn = candidates.filter((c) => c.y && c.y.some((v) => v !== null && v !== undefined));
  const at = (key) => drawn.findIndex((c) => c.key === key) + 1; // 0: absent (series 0 is time)
  const bands = [["hi", "lo", "rgba(31,111,235,.16)"], ["backtest hi", "backtest lo", "rgba(130,80,223,.10)"]]
    .filter(([upper, lower]) => at(upper) && at(lower))
    .map(([upper, lower, fill]) => ({ upper: at(upper), lower: at(lower), fill }));
  const steps = covariate ? flagSteps(item, covariate.name) : null;
  const spans = steps ? nonZeroSpans(steps.x.map(epoch), steps.values) : [];
  return timeChart(box, align(drawn), {
    series: drawn.map((c) => ({ label: c.label || c.key, ...c.style })),
    bands,
    spans,
  });
}

function forecastTable(item) {
  const f = item.forecast;
  if (!f.timestamp.length) return empty("No forecast for this item in this source.");
  const columns = ["mean", ...item.quantiles].filter((c) => f[c]);
  return h("details", {},
    h("summary", {}, "Forecast values"),
    h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "timestamp"), columns.map((c) => h("th", { class: "num" }, c)))),
      h("tbody", {}, f.timestamp.map((t, i) =>
        h("tr", {}, h("td", {}, day(t)), columns.map((c) => h("td", { class: "num" }, num(f[c][i])))))))));
}
