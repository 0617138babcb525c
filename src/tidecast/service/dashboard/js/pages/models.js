// Leaderboards: the model groups and their versions (status, backtest score), the endpoints
// serving them, and the chosen version's leaderboard: from the job that trained it, else from
// its quality report (a version registered by hand has no job).

import { api, feature, path } from "../api.js";
import { badge, clear, empty, h, num, table, when } from "../dom.js";
import { leaderboardTable } from "./leaderboard.js";

export async function render(main, params, ctx) {
  const [{ groups }, { endpoints }] = await Promise.all([api("/v1/models"), api("/v1/endpoints")]);
  const detail = h("div", { id: "version-detail" });
  const parts = [h("h1", {}, "Models and leaderboards")];
  if (!groups.length) {
    parts.push(empty("No models registered yet: a completed training job registers its model here."));
    clear(main, parts);
    return;
  }
  parts.push(h("h2", {}, "Endpoints"));
  parts.push(
    endpoints.length
      ? table(
          [
            { label: "Endpoint", value: (e) => e.name },
            { label: "Serves", value: (e) => `${e.group}:${e.version}` },
            { label: "Status", value: (e) => badge(e.status) },
            { label: "Items", value: (e) => num(e.items), num: true, narrow: true },
            { label: "Horizon", value: (e) => num(e.horizon), num: true, narrow: true },
          ],
          endpoints,
          (e) => ctx.go("models", { group: e.group, version: e.version }),
        )
      : empty("No endpoints deployed."),
  );
  const versions = await Promise.all(groups.map((g) => api(path("/v1/models", g.name, "versions"))));
  groups.forEach((group, i) => {
    parts.push(h("h2", {}, `Group ${group.name}`));
    parts.push(
      table(
        [
          { label: "Version", value: (v) => v.version, num: true },
          { label: "Status", value: (v) => badge(v.status) },
          { label: "Metric", value: (v) => (v.metrics && v.metrics.objective) || "–" },
          { label: "Backtest score", value: (v) => num(v.metrics && v.metrics.score), num: true },
          { label: "Created", value: (v) => when(v.created_at), narrow: true },
        ],
        versions[i].versions,
        (v) => ctx.go("models", { group: group.name, version: v.version }),
      ),
    );
  });
  parts.push(detail);
  clear(main, parts);
  const chosen = params.group ? { group: params.group, version: Number(params.version) } : null;
  const first = groups.find((g) => g.latest_version);
  await showVersion(detail, chosen || { group: first.name, version: first.latest_version });
}

async function showVersion(detail, { group, version }) {
  const info = await api(path("/v1/models", group, "versions", String(version)));
  const name = `${group}:${version}`;
  let rows = null;
  if (info.source_job_id) {
    const job = await api(path("/v1/jobs", info.source_job_id)).catch(() => null);
    rows = job && job.leaderboard && job.leaderboard.length ? job.leaderboard : null;
  }
  if (!rows && feature("reports")) {
    const { reports } = await api(`${path("/v1/reports", name)}?kind=quality&format=json`);
    const section = reports[0].sections.find((s) => s.title === "Leaderboard");
    rows = section ? section.tables.leaderboard : null;
  }
  clear(
    detail,
    h(
      "div",
      { class: "card" },
      h("h2", { id: "leaderboard-title" }, `Leaderboard of ${name}`),
      h("p", {}, badge(info.status), " ", info.description || "", " ",
        h("a", { href: `#/explorer?source=${encodeURIComponent(name)}` }, "Explore forecasts"), " · ",
        h("a", { href: `#/report?source=${encodeURIComponent(name)}` }, "Business report")),
      rows ? leaderboardTable(rows) : empty("No leaderboard kept for this version."),
    ),
  );
}
