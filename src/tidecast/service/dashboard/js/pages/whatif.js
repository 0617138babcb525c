// What if: forecast an endpoint's stored items again with changed known covariates (rules in
// JSON, applied to the future file the forecast uses) and see baseline and scenario side by
// side, per item and in total, with the first item's two forecasts drawn.

import { api, path } from "../api.js";
import { align, timeChart } from "../charts.js";
import { clear, empty, h, num, stat, table } from "../dom.js";
import { EXAMPLE_RULES, comparisonColumns, exampleRules, parseCsv, requestBody } from "../scenario.js";

export async function render(main, params, ctx) {
  const { endpoints } = await api("/v1/endpoints");
  if (!endpoints.length) {
    clear(main, h("h1", {}, "What if"), empty("No endpoint is deployed: deploy a model to try scenarios on it."));
    return;
  }
  const endpoint = h("select", { id: "whatif-endpoint" },
    endpoints.map((e) => h("option", { value: e.name, selected: e.name === params.endpoint }, e.name)));
  const items = h("input", { id: "whatif-items", placeholder: "item_a, item_b", value: params.items || "" });
  const future = h("input", { id: "whatif-future", type: "file", accept: ".csv,text/csv" });
  const rules = h("textarea", { id: "whatif-rules", rows: 8, cols: 60, spellcheck: false });
  rules.value = EXAMPLE_RULES;
  // The example names the chosen endpoint's own covariates, until the user writes rules of their own.
  let example = rules.value;
  const prefill = async () => {
    const described = await api(path("/v1/endpoints", endpoint.value)).catch(() => null);
    if (!described || rules.value !== example) return;
    example = exampleRules(described.known_covariates, described.horizon);
    rules.value = example;
  };
  endpoint.addEventListener("change", prefill);
  const result = h("div", { id: "whatif-result" });
  let chart = null;
  ctx.onLeave(() => chart && chart.destroy());
  const run = async (event) => {
    event.preventDefault();
    try {
      const file = future.files && future.files[0];
      const rows = file ? parseCsv(await file.text()) : [];
      const body = requestBody(items.value, rows, rules.value);
      clear(result, h("p", { class: "muted" }, "Forecasting twice…"));
      const answer = await api(path("/v1/endpoints", endpoint.value, "whatif"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (chart) chart.destroy();
      chart = draw(result, answer);
    } catch (error) {
      clear(result, h("p", { class: "error", role: "alert" }, error.message));
    }
  };
  clear(
    main,
    h("h1", {}, "What if"),
    h("p", { class: "muted" },
      "Set, add to or multiply a known covariate where conditions on item attributes, items, dates or steps " +
      "hold; the models forecast again without refitting. The future file is the one the forecast uses."),
    h("form", { class: "card", onsubmit: run },
      h("div", { class: "controls" },
        h("label", {}, "Endpoint", endpoint),
        h("label", { style: { flex: "1 1 16rem" } }, "Items (comma-separated)", items),
        h("label", {}, "Future covariates (CSV)", future)),
      h("label", { for: "whatif-rules" }, "Rules (JSON)"),
      rules,
      h("p", {}, h("button", { type: "submit" }, "Forecast the scenario"))),
    result,
  );
  await prefill();
}

function draw(box, answer) {
  const total = answer.total;
  const chartBox = h("div", { class: "chart", id: "whatif-chart" });
  clear(
    box,
    h("div", { class: "grid" },
      stat("baseline", num(total.baseline)),
      stat("scenario", num(total.scenario)),
      stat("difference", num(total.difference)),
      stat("difference %", total.percent === null ? "–" : `${num(total.percent, 2)}%`)),
    h("p", { class: "muted" },
      answer.rules.map((r) => `rule ${r.rule} (${r.covariate}): ${r.matched} rows matched, ${r.changed} changed`).join(" · ")),
    ...(answer.notes || []).map((note) => h("p", { class: "note", role: "note" }, note)),
    h("h2", {}, "Per item, over the horizon"),
    table(
      [
        { label: "Item", value: (i) => i.item_id },
        { label: "Baseline", value: (i) => num(i.total.baseline), num: true },
        { label: "Scenario", value: (i) => num(i.total.scenario), num: true },
        { label: "Difference", value: (i) => num(i.total.difference), num: true },
        { label: "%", value: (i) => (i.total.percent === null ? "–" : num(i.total.percent, 2)), num: true },
      ],
      answer.items,
    ),
    answer.items.length ? h("h2", {}, `${answer.items[0].item_id}: baseline and scenario`) : null,
    chartBox,
  );
  if (!answer.items.length) return null;
  const columns = comparisonColumns(answer.items[0]);
  return timeChart(chartBox, align(columns), { series: columns.map((c) => ({ label: c.key, ...c.style })) });
}
