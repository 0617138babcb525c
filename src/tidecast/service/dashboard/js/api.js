// The JSON API as the pages call it: the service's config, the API key and fetch with it.
// The key is asked once and kept in this tab's sessionStorage (gone when the tab closes);
// a service in open mode needs none, and /dashboard/config.json says which it is.

const KEY = "tidecast.apiKey";
let config = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function loadConfig() {
  if (config === null) {
    const response = await fetch("config.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new ApiError(response.status, null);
    config = await response.json();
  }
  return config;
}

export function feature(name) {
  return Boolean(config && config.features && config.features[name]);
}

export function keyNeeded() {
  return Boolean(config && config.key_needed);
}

export function storedKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function storeKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

// GET (or another method) on the API; the parsed JSON, or an ApiError with the problem.
export async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const key = storedKey();
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(path, { ...options, headers });
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof body === "object" ? body : null);
  return body;
}

// Path segments are user text (item ids may hold "/" or spaces): always encoded.
export function path(...segments) {
  return segments.map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join("/");
}
