// What a page can show a run of: endpoints (the version they serve) and model versions, as
// names the item and report routes accept (an endpoint name, or group:version).

import { api, path } from "../api.js";
import { h } from "../dom.js";

export async function sources() {
  const [{ endpoints }, { groups }] = await Promise.all([api("/v1/endpoints"), api("/v1/models")]);
  const versions = await Promise.all(groups.map((g) => api(path("/v1/models", g.name, "versions"))));
  const out = endpoints.map((e) => ({ value: e.name, label: `endpoint ${e.name} (${e.group}:${e.version})` }));
  versions.forEach(({ versions: list }) => {
    for (const v of [...list].reverse()) out.push({ value: `${v.group}:${v.version}`, label: `${v.group}:${v.version} (${v.status})` });
  });
  return out;
}

export function sourceSelect(options, chosen, onChange) {
  return h(
    "label",
    {},
    "Model or endpoint",
    h(
      "select",
      { id: "source", onchange: (event) => onChange(event.target.value) },
      options.map((o) => h("option", { value: o.value, selected: o.value === chosen }, o.label)),
    ),
  );
}
