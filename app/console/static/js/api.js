// The admin API from the browser: the token lives in sessionStorage (this tab only) and
// goes out as an Authorization header, never in a URL, never in a cookie.
const KEY = "frugalflow.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  // No token, or one the API does not know (not: the read-only token trying to write).
  get unauthenticated() {
    return this.status === 401 || (this.status === 403 && this.message === "invalid token");
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function failure(response) {
  let code = "http_" + response.status;
  let message = response.statusText || "request failed";
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code;
      message = body.error.message;
      if (Array.isArray(body.error.details) && body.error.details.length) {
        message += ": " + body.error.details
          .map((d) => `${(d.loc || []).join(".")} ${d.message}`).join("; ");
      }
    }
  } catch (_) { /* not JSON: keep the status text */ }
  return new ApiError(response.status, code, message);
}

export async function request(method, path, { params, body, secret } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = secret ?? token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path + query(params), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit", cache: "no-store",
    });
  } catch (exc) {
    throw new ApiError(0, "network_error", "the API cannot be reached: " + exc.message);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function get(path, params) {
  return (await request("GET", path, { params })).json();
}

export async function send(method, path, body, params) {
  const response = await request(method, path, { params, body });
  return response.status === 204 ? null : response.json();
}

// A file the API streams (the cost-event CSV), saved through a blob: the token stays in
// the header.
export async function download(path, params, filename) {
  const blob = await (await request("GET", path, { params })).blob();
  saveBlob(blob, filename);
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
