// A leaderboard (rows of a run's leaderboard.csv, as jobs and reports give them): the score
// as a bar, the selected model marked, per-window columns on wide screens only.

import { bar, h, num, table } from "../dom.js";

export function leaderboardTable(rows) {
  const scores = rows.map((r) => r.score).filter((s) => typeof s === "number");
  const max = scores.length ? Math.max(...scores) : 0;
  const windows = Object.keys(rows[0] || {}).filter((k) => /^window_\d+_/.test(k));
  const columns = [
    { label: "Model", value: (r) => (r.selected ? h("b", {}, `${r.model} ✓`) : r.model) },
    { label: "Score", value: (r) => num(r.score), num: true },
    { label: "", value: (r) => h("div", { class: "barcell" }, bar(r.score, max)) },
    ...windows.map((k) => ({ label: k.replace(/^window_(\d+)_/, "w$1 "), value: (r) => num(r[k]), num: true, narrow: true })),
    { label: "Weight", value: (r) => num(r.weight), num: true },
    { label: "Fit s", value: (r) => num(r.fit_seconds), num: true, narrow: true },
    { label: "Error", value: (r) => r.error || "", narrow: true },
  ];
  return table(columns, rows);
}
