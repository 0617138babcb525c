// Accuracy: the realised error of what an endpoint served, against the actuals received, per
// model version over time, beside the backtest score each version was approved on.

import { clear, empty, h, num, pct, stat, table } from "../dom.js";
import { align, color, timeChart } from "../charts.js";
import { monitoringPage, versionName } from "./monitoring.js";

const METRICS = ["wape", "wql", "mape", "mase", "bias", "coverage"];
const PERIODS = { h: "hour", D: "day", W: "week", M: "month", Q: "quarter", Y: "year" };

export async function render(main, params, ctx) {
  const metric = METRICS.includes(params.metric) ? params.metric : "wape";
  const period = params.period || "W";
  const controls = [
    h("label", {}, "Metric", h("select", { id: "metric", onchange: (e) => ctx.go("accuracy", { ...params, metric: e.target.value }) },
      METRICS.map((m) => h("option", { value: m, selected: m === metric }, m)))),
    h("label", {}, "Period", h("select", { id: "period", onchange: (e) => ctx.go("accuracy", { ...params, period: e.target.value }) },
      ["D", "W", "M"].map((v) => h("option", { value: v, selected: v === period }, PERIODS[v])))),
  ];
  await monitoringPage(main, params, ctx, {
    page: "accuracy",
    title: "Accuracy against actuals",
    intro: "Realised errors of the forecasts an endpoint served, once their actuals arrived, per version over time.",
    controls,
    draw: (box, report) => draw(box, report, metric, ctx),
  });
}

function draw(box, report, metric, ctx) {
  if (!report.points) {
    clear(box, empty(`No forecasts of ${report.endpoint} have actuals yet: load actuals to see accuracy.`));
    return;
  }
  const overall = report.overall || {};
  const chartBox = h("div", { class: "chart", id: "accuracy-chart" });
  clear(
    box,
    h("div", { class: "grid" },
      stat("scored points", num(report.points)),
      stat("WAPE", num(overall.wape)),
      stat("wQL", num(overall.wql)),
      stat("p10–p90 coverage", pct(overall.coverage)),
      stat("bias", num(overall.bias))),
    h("h2", {}, `${metric} per ${PERIODS[report.period] || report.period} and version`),
    chartBox,
    h("h2", {}, "Versions: realised against backtest"),
    table(
      [
        { label: "Version", value: versionName },
        { label: "Points", value: (v) => num(v.points), num: true },
        { label: "Realised WAPE", value: (v) => num(v.wape), num: true },
        { label: "Realised wQL", value: (v) => num(v.wql), num: true },
        { label: "Backtest", value: (v) => (v.backtest ? `${v.backtest.metric || ""} ${num(v.backtest.score)}` : "–") },
        { label: "Realised ÷ backtest", value: (v) => num(v.realised_over_backtest), num: true },
        { label: "Coverage", value: (v) => pct(v.coverage), num: true, narrow: true },
      ],
      report.versions || [],
    ),
  );
  const versions = [...new Set((report.over_time || []).map((r) => r.model_version_id))];
  const names = new Map((report.over_time || []).map((r) => [r.model_version_id, versionName(r)]));
  const columns = versions.map((id) => {
    const rows = report.over_time.filter((r) => r.model_version_id === id);
    return { x: rows.map((r) => String(r.period)), y: rows.map((r) => r[metric]) };
  });
  if (!columns.length) {
    clear(chartBox, empty("Nothing scored per period yet."));
    return;
  }
  const chart = timeChart(chartBox, align(columns), {
    series: versions.map((id, i) => ({ label: names.get(id), stroke: color(i), width: 2, points: true, spanGaps: true })),
    yLabel: metric,
  });
  ctx.onLeave(() => chart.destroy());
}
