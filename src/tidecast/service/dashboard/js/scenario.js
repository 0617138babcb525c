// What the what-if page sends and draws, as pure functions (tested under Node.js): a future
// file read as rows, the request body, and the baseline and scenario of one item as chart
// columns. No DOM here.

// A CSV text (header line, comma-separated, double quotes around fields that hold commas) as
// row objects; numbers become numbers, empty fields are left out.
export function parseCsv(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n").filter((l) => l.trim() !== "");
  if (!lines.length) return [];
  const split = (line) => {
    const out = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < line.length; i += 1) {
      const c = line[i];
      if (quoted && c === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = !quoted;
      else if (c === "," && !quoted) {
        out.push(field);
        field = "";
      } else field += c;
    }
    out.push(field);
    return out.map((f) => f.trim());
  };
  const header = split(lines[0]);
  return lines.slice(1).map((line, k) => {
    const fields = split(line);
    if (fields.length !== header.length) {
      throw new Error(`line ${k + 2} of the future file has ${fields.length} fields, the header ${header.length}`);
    }
    const row = {};
    header.forEach((name, j) => {
      const value = fields[j];
      if (value === "") return;
      row[name] = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value) ? Number(value) : value;
    });
    return row;
  });
}

// The body of POST /v1/endpoints/{name}/whatif; an Error names what the user must fix.
export function requestBody(itemsText, futureRows, rulesText) {
  const items = itemsText.split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new Error("name at least one item");
  let rules;
  try {
    rules = JSON.parse(rulesText);
  } catch (error) {
    throw new Error(`the rules are not JSON: ${error.message}`);
  }
  const body = { item_ids: items, rules };
  if (futureRows && futureRows.length) body.future = futureRows;
  return body;
}

// One item's baseline and scenario as the chart's columns ([timestamps], [baseline], [scenario]).
export function comparisonColumns(item) {
  return [
    { key: "baseline", x: item.timestamps, y: item.baseline, style: { stroke: "#1d2733", width: 2 } },
    { key: "scenario", x: item.timestamps, y: item.scenario, style: { stroke: "#d9822b", width: 2 } },
  ];
}

// The example rules for a model whose known covariates are `covariates` and whose horizon is
// `horizon`: its first covariate set to 1 over the first 7 steps (a promotion week on daily
// data), or over the whole horizon when it is shorter (a 4-week model has no step 7);
// "promotion" over 7 steps when they are not known yet.
export function exampleRules(covariates, horizon) {
  const covariate = (covariates && covariates[0]) || "promotion";
  const to = Math.min(7, horizon > 0 ? horizon : 7);
  return JSON.stringify(
    { name: `${covariate}, steps 1-${to}`, rules: [{ covariate, set: 1, where: { step: { to } } }] },
    null,
    2,
  );
}

export const EXAMPLE_RULES = exampleRules(["promotion"]);
