// What the accuracy and drift pages share: pick an endpoint, read its monitoring route, and
// say plainly when there is nothing to show yet.
//
// The route's answer (documented in ../../README.md, "The monitoring contract"):
//   GET /v1/monitoring/{endpoint}?period=W ->
//   {endpoint, model_version_id, model_group, model_version, period, points,
//    overall: {wql, wape, mape, mase, bias, coverage},
//    versions: [{model_version_id, model_group, model_version, points, wape, ...,
//                backtest: {group, version, metric, score}, realised_over_backtest}],
//    over_time: [{model_version_id, model_group, model_version, period, points, wape, ...}],
//    by_step: [...], worst_items: [...],
//    drift: {model_version_id, model_group, model_version, recent_points, items_compared, mean_score,
//            items: [{item_id, points, level_shift, volatility_ratio, covariate_shift, score, reason}]}}

import { ApiError, api, feature, path } from "../api.js";
import { clear, empty, h } from "../dom.js";

// A version as the registry names it (group:version); model_version_id is a row id, not a number
// people know the version by.
export const versionName = (row) =>
  row.model_group != null ? `${row.model_group}:${row.model_version}` : `id ${row.model_version_id}`;

export const NO_MONITORING =
  "No monitoring data yet: this service does not offer monitoring (GET /v1/monitoring/{endpoint}), " +
  "so there is no accuracy against actuals or drift to show.";

// Render the page's frame; calls draw(box, report, endpoint) with the monitoring answer.
export async function monitoringPage(main, params, ctx, { page, title, intro, draw, controls = [] }) {
  const { endpoints } = await api("/v1/endpoints");
  const box = h("div", { id: `${page}-view` });
  const parts = [h("h1", {}, title), h("p", { class: "muted" }, intro)];
  if (!feature("monitoring")) {
    clear(main, parts, empty(NO_MONITORING));
    return;
  }
  if (!endpoints.length) {
    clear(main, parts, empty("No endpoints deployed: monitoring follows what endpoints serve."));
    return;
  }
  const endpoint = params.endpoint || endpoints[0].name;
  const select = h(
    "select",
    { id: "endpoint", onchange: (e) => ctx.go(page, { ...params, endpoint: e.target.value }) },
    endpoints.map((e) => h("option", { value: e.name, selected: e.name === endpoint }, `${e.name} (${e.group}:${e.version})`)),
  );
  clear(main, parts, h("div", { class: "controls" }, h("label", {}, "Endpoint", select), controls), box);
  const query = new URLSearchParams({ period: params.period || "W", items: "50" });
  let report;
  try {
    report = await api(`${path("/v1/monitoring", endpoint)}?${query}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      clear(box, empty(`No monitoring data yet for ${endpoint}: ${error.message}`));
      return;
    }
    throw error;
  }
  draw(box, report, endpoint);
}
