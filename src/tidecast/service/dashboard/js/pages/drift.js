// Drift: per item, how far the recent actuals moved from the training data (level,
// volatility, covariates), worst first; an item's row opens it in the forecast explorer.

import { bar, clear, empty, h, num, stat, table } from "../dom.js";
import { monitoringPage, versionName } from "./monitoring.js";

// Scores are in spreads of the training data; from this one on, a bar is drawn in red.
const NOTABLE_SCORE = 3;

export async function render(main, params, ctx) {
  await monitoringPage(main, params, ctx, {
    page: "drift",
    title: "Drift",
    intro: "Level, volatility and covariate shift of each item's recent actuals against its training data; " +
      `a score per item (red from ${NOTABLE_SCORE}). An item opens in the forecast explorer.`,
    draw: (box, report, endpoint) => draw(box, report.drift, endpoint, ctx),
  });
}

function draw(box, drift, endpoint, ctx) {
  if (!drift || !drift.items_compared) {
    clear(box, empty("No actuals after the training data yet: nothing to compare."));
    return;
  }
  const max = Math.max(...drift.items.map((i) => i.score || 0), 1);
  clear(
    box,
    h("div", { class: "grid" },
      stat("version", versionName(drift)),
      stat("items compared", num(drift.items_compared)),
      stat("mean score", num(drift.mean_score)),
      stat("recent window: last points per item, at most", num(drift.recent_points))),
    h("h2", {}, "Items, worst first"),
    table(
      [
        { label: "Item", value: (i) => i.item_id },
        { label: "Score", value: (i) => num(i.score), num: true },
        { label: "", value: (i) => h("div", { class: "barcell" }, bar(i.score, max, i.score >= NOTABLE_SCORE)) },
        // The largest signal, or a stop's whole sentence (every recent actual 0).
        { label: "Reason", value: (i) => i.reason || "" },
        { label: "Level shift", value: (i) => num(i.level_shift), num: true },
        { label: "Volatility ratio", value: (i) => num(i.volatility_ratio), num: true, narrow: true },
        { label: "Covariate shift", value: (i) => num(i.covariate_shift), num: true, narrow: true },
        { label: "Points", value: (i) => num(i.points), num: true, narrow: true },
      ],
      drift.items,
      (i) => ctx.go("explorer", { source: endpoint, item: i.item_id }),
    ),
  );
}
