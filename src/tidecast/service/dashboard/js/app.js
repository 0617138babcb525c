// The dashboard's shell: asks for the API key when the service needs one, then shows the page
// the URL's hash names (#/jobs, #/explorer?source=…&item=…), one module per page. A page gets
// a context whose timers and charts are cleaned up when the user leaves it.

import { ApiError, api, forgetKey, keyNeeded, loadConfig, storeKey, storedKey } from "./api.js";
import { clear, failure, h } from "./dom.js";
import * as accuracy from "./pages/accuracy.js";
import * as alerts from "./pages/alerts.js";
import * as drift from "./pages/drift.js";
import * as explorer from "./pages/explorer.js";
import * as jobs from "./pages/jobs.js";
import * as models from "./pages/models.js";
import * as report from "./pages/report.js";
import * as whatif from "./pages/whatif.js";

const PAGES = { jobs, models, explorer, accuracy, drift, alerts, report, whatif };
const main = document.getElementById("main");
let leaving = [];

export function go(page, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
  const text = query.toString();
  location.hash = `#/${page}${text ? `?${text}` : ""}`;
}

function route() {
  const [name, query] = location.hash.replace(/^#\/?/, "").split("?");
  return { name: PAGES[name] ? name : "jobs", params: Object.fromEntries(new URLSearchParams(query || "")) };
}

function leave() {
  for (const done of leaving) {
    try {
      done();
    } catch (error) {
      console.warn("cleanup failed", error);
    }
  }
  leaving = [];
}

async function show() {
  leave();
  const { name, params } = route();
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#/${name}`);
  }
  const context = {
    every(fn, ms) {
      const id = setInterval(fn, ms);
      leaving.push(() => clearInterval(id));
    },
    onLeave(fn) {
      leaving.push(fn);
    },
    go,
  };
  clear(main, h("p", { class: "muted" }, "Loading…"));
  document.body.dataset.state = "loading"; // "ready" once the page has drawn (tests wait on it)
  try {
    await PAGES[name].render(main, params, context);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) askKey(error);
    else clear(main, failure(error));
  }
  document.body.dataset.state = "ready";
}

function askKey(error) {
  const input = h("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "tc_…" });
  const message =
    error && error.status === 403
      ? "This key may not read jobs and models: the dashboard needs an admin key."
      : error
        ? "The key was not accepted."
        : "";
  const form = h(
    "form",
    {
      class: "card keyform",
      onsubmit: (event) => {
        event.preventDefault();
        storeKey(input.value.trim());
        document.getElementById("forget-key").hidden = false;
        show();
      },
    },
    h("h1", {}, "API key"),
    h("p", {}, "This service needs an admin API key. It is kept in this browser tab only."),
    h("label", { for: "api-key" }, "Key"),
    input,
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    h("button", { type: "submit" }, "Open the dashboard"),
  );
  clear(main, form);
  input.focus();
}

async function start() {
  try {
    await loadConfig();
  } catch (error) {
    clear(main, failure(error));
    return;
  }
  const forget = document.getElementById("forget-key");
  forget.addEventListener("click", () => {
    forgetKey();
    forget.hidden = true;
    leave();
    askKey(null);
  });
  window.addEventListener("hashchange", () => {
    if (!keyNeeded() || storedKey()) show();
  });
  if (keyNeeded() && !storedKey()) return askKey(null);
  forget.hidden = !keyNeeded();
  show();
}

start();
