// Alerts: the incident history, firing first, from GET /v1/alerts (contract in ../../README.md):
//   {"incidents": [{rule, subject (the endpoint), severity, state: "firing"|"resolved",
//                   started_at, resolved_at, value, threshold, message}]}

import { api, feature } from "../api.js";
import { badge, clear, empty, h, num, table, when } from "../dom.js";

const REFRESH_MS = 15000;

export async function render(main, params, ctx) {
  const box = h("div", { id: "alerts-view" });
  clear(main, h("h1", {}, "Alerts"), h("p", { class: "muted" }, "Incidents raised by the alert rules, firing first."), box);
  if (!feature("alerts")) {
    clear(box, empty("No alerts yet: this service does not evaluate alert rules (GET /v1/alerts is not offered)."));
    return;
  }
  const refresh = async () => {
    const { incidents } = await api("/v1/alerts");
    const ordered = [...incidents].sort((a, b) => (a.state === "firing" ? 0 : 1) - (b.state === "firing" ? 0 : 1));
    clear(
      box,
      ordered.length
        ? table(
            [
              { label: "State", value: (a) => badge(a.state) },
              { label: "Severity", value: (a) => badge(a.severity || "–") },
              { label: "Rule", value: (a) => a.rule },
              { label: "Endpoint", value: (a) => a.subject || "–" },
              { label: "Value", value: (a) => num(a.value), num: true, narrow: true },
              { label: "Threshold", value: (a) => num(a.threshold), num: true, narrow: true },
              { label: "Since", value: (a) => when(a.started_at) },
              { label: "Resolved", value: (a) => when(a.resolved_at), narrow: true },
              { label: "Message", value: (a) => a.message || "", narrow: true },
            ],
            ordered,
          )
        : empty("No alerts have fired."),
    );
  };
  await refresh();
  ctx.every(() => refresh().catch(() => {}), REFRESH_MS);
}
