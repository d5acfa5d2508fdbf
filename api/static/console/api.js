/*
 * The console's HTTP client: JSON in and out, the session cookie sent by the browser,
 * and a 401 anywhere sends the agent to the login page.
 */

export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter; // seconds, from a 429's Retry-After
  }
}

/** The login page, coming back to where the agent was. */
export function goToLogin() {
  const next = location.pathname + location.search + location.hash;
  location.assign("/agent/login?next=" + encodeURIComponent(next));
}

function describe(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail) && body.detail.length) {
    return body.detail.map((item) => item.msg || String(item)).join("; ");
  }
  return "Request failed (" + status + ")";
}

/** Call the agent API; resolves to the decoded JSON, rejects with ApiError. */
export async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (_) {
    throw new ApiError(0, "The server cannot be reached. Check your connection.");
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401 && !options.allowUnauthorized) {
    goToLogin();
    throw new ApiError(401, "Your session has ended. Please sign in again.");
  }
  if (!response.ok) {
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, describe(body, response.status), retry > 0 ? retry : null);
  }
  return body;
}

/** A query string from the non-empty entries of an object. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}
