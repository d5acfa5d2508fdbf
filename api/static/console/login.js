/*
 * The login page: name and password to POST /api/auth/login; the server sets the session cookie.
 * Then back to where the agent was going (only ever a console page of this server).
 */

import { api, ApiError } from "./api.js";

const form = document.getElementById("login-form");
const nameInput = document.getElementById("login-name");
const passwordInput = document.getElementById("login-password");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

/** The page to open after signing in: a console path, never another site; keeps the #fragment. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  const safe = /^\/agent(?:[/?#]|$)/.test(next) && !next.startsWith("/agent/login") ? next : "/agent";
  return safe.includes("#") ? safe : safe + location.hash;
}

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function signIn(event) {
  event.preventDefault();
  const name = nameInput.value.trim();
  const password = passwordInput.value;
  if (!name || !password) {
    showError("Enter your name and password.");
    (name ? passwordInput : nameInput).focus();
    return;
  }
  showError("");
  submit.disabled = true;
  submit.textContent = "Signing in…";
  try {
    await api("/api/auth/login", { method: "POST", body: { name, password }, allowUnauthorized: true });
    location.assign(nextPage());
    return;
  } catch (err) {
    showError(messageFor(err));
    passwordInput.select();
  }
  submit.disabled = false;
  submit.textContent = "Sign in";
}

function messageFor(err) {
  if (!(err instanceof ApiError)) return "Something went wrong. Please try again.";
  if (err.status === 401) return "Wrong name or password.";
  if (err.status === 429) {
    const wait = err.retryAfter ? waitText(err.retryAfter) : "a few minutes";
    return "Too many failed attempts. Please try again in " + wait + ".";
  }
  return err.detail;
}

function waitText(seconds) {
  if (seconds < 90) return seconds + " seconds";
  return Math.ceil(seconds / 60) + " minutes";
}

form.addEventListener("submit", signIn);
