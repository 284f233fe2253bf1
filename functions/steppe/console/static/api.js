// The analyst API as the console calls it: the caller's key, JSON in and out, errors as sentences.

const KEY = "steppe.key";

// Relative to the console's own URL, so that a stage prefix (/v1/console/) is kept.
export const API_BASE = new URL("../api/v1/", new URL(".", window.location.href)).href;

export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), API_BASE);
  for (const [name, value] of query || []) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.append(name, value);
  }
  return url.href;
}

export function storedKey() {
  return window.sessionStorage.getItem(KEY);
}

export function keepKey(key) {
  window.sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  window.sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const description = body && typeof body.description === "string" ? body.description : fallback;
    super(description);
    this.status = status;
    this.title = (body && body.title) || `HTTP ${status}`;
    this.description = description;
    this.where = (body && body.where) || null;
    this.errors = (body && Array.isArray(body.errors) && body.errors) || [];
  }

  // The sentence shown to the analyst.
  get sentence() {
    const where = this.where && !this.description.includes(this.where) ? ` (${this.where})` : "";
    return `${this.title}: ${this.description}${where}`;
  }
}

async function parsed(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { description: text.slice(0, 300) };
  }
}

// One request. `options`: {method, query, json, body, contentType, key, raw}.
// Resolves to the parsed JSON body (or the Response when raw), with `status` kept on `last`.
export async function call(path, options = {}) {
  const headers = { Accept: "application/json" };
  const key = options.key === undefined ? storedKey() : options.key;
  if (key) headers.Authorization = `Bearer ${key}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["Content-Type"] = "application/json";
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  let response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method: options.method || "GET",
      headers,
      body,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (problem) {
    throw new ApiError(0, null, `steppe did not answer (${problem.message}); is it running?`);
  }
  if (!response.ok) {
    const problem = await parsed(response);
    const error = new ApiError(response.status, problem, `${response.status} ${response.statusText}`);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("steppe:unauthorised"));
    throw error;
  }
  if (options.raw) return response;
  const answer = (await parsed(response)) || {};
  return { status: response.status, body: answer };
}

export async function get(path, query) {
  return (await call(path, { query })).body;
}

export async function post(path, json) {
  return call(path, { method: "POST", json });
}
