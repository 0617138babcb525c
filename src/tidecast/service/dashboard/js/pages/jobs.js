// Jobs: every training and batch job with its state and progress, refreshed every few seconds;
// a job's row opens its leaderboard (training) or result (batch).

import { api, path } from "../api.js";
import { badge, clear, duration, empty, failure, h, table, when } from "../dom.js";
import { leaderboardTable } from "./leaderboard.js";

const REFRESH_MS = 3000;
const FINAL = new Set(["Completed", "Failed", "Stopped"]); // the states a job does not leave

// Whether a job can still change (Queued, InProgress, Stopping): its page keeps refreshing.
export function moving(status) {
  return !FINAL.has(status);
}
const STAGES = ["prepare", "backtest", "ensemble", "refit", "done"];

// A job's progress as a fraction: chunks done for a batch, the stage reached for a training.
export function progress(job) {
  if (job.status === "Completed") return 1;
  const chunks = job.progress;
  if (chunks && chunks.chunks) return chunks.done / chunks.chunks;
  const stage = STAGES.indexOf(job.stage);
  return stage < 0 ? 0 : (stage + 0.5) / STAGES.length;
}

function progressCell(job) {
  const share = progress(job);
  const label = job.progress && job.progress.chunks
    ? `${job.progress.done}/${job.progress.chunks} chunks`
    : [job.stage, job.candidate].filter(Boolean).join(": ") || "–";
  return h(
    "span",
    { title: label },
    h("span", { class: "progress", role: "progressbar", "aria-valuenow": Math.round(share * 100) },
      h("span", { style: { width: `${Math.round(share * 100)}%` } })),
    " ",
    h("span", { class: "muted" }, label),
  );
}

const COLUMNS = [
  { label: "Name", value: (j) => j.name || j.id.slice(0, 8) },
  { label: "Kind", value: (j) => j.kind, narrow: true },
  { label: "Status", value: (j) => badge(j.status) },
  { label: "Progress", value: progressCell },
  { label: "Model", value: (j) => (j.model_version ? `${j.model_version.group}:${j.model_version.version}` : "–") },
  { label: "Created", value: (j) => when(j.created_at), narrow: true },
  { label: "Took", value: (j) => duration(j.started_at, j.ended_at), num: true },
];

export async function render(main, params, ctx) {
  const list = h("div", { id: "jobs-list" });
  const detail = h("div", { id: "job-detail" });
  clear(
    main,
    h("h1", {}, "Jobs"),
    h("p", { class: "muted" }, `Training and batch jobs, newest first; refreshed every ${REFRESH_MS / 1000} s.`),
    list,
    detail,
  );
  const select = (job) => ctx.go("jobs", { job: job.id });
  const refresh = async () => {
    const { jobs } = await api("/v1/jobs?limit=100");
    clear(list, jobs.length ? table(COLUMNS, jobs, select) : empty("No jobs yet: submit one with POST /v1/jobs or tidecast jobs submit."));
  };
  await refresh();
  ctx.every(() => refresh().catch((error) => clear(list, failure(error))), REFRESH_MS);
  if (params.job) await showJob(detail, params.job, ctx);
}

async function showJob(detail, id, ctx) {
  const draw = async () => {
    const job = await api(path("/v1/jobs", id));
    const parts = [h("h2", {}, `Job ${job.name || job.id}`)];
    parts.push(h("p", {}, badge(job.status), " ", job.kind, job.stage ? ` · stage ${job.stage}` : "",
      job.candidate ? ` · ${job.candidate}` : ""));
    if (job.error) parts.push(h("p", { class: "error" }, job.error));
    if (job.leaderboard && job.leaderboard.length) parts.push(leaderboardTable(job.leaderboard));
    if (job.result) parts.push(h("pre", { class: "scroll" }, JSON.stringify(job.result, null, 2)));
    if (job.model_version) {
      const source = `${job.model_version.group}:${job.model_version.version}`;
      parts.push(h("p", {}, h("a", { href: `#/explorer?source=${encodeURIComponent(source)}` }, `Explore ${source}'s forecasts`)));
    }
    clear(detail, h("div", { class: "card" }, parts));
    return job;
  };
  let job = await draw();
  // Until the job ends (Queued, InProgress and Stopping all move on), then its leaderboard stays.
  if (moving(job.status)) {
    ctx.every(async () => {
      if (!moving(job.status)) return;
      job = await draw().catch(() => job);
    }, REFRESH_MS);
  }
}
