/*
 * DOM and formatting helpers shared by the console's modules.
 * Text from customers, agents and the bot only ever goes in through textContent (the "text" attribute).
 */

/** Build an element: el("button", {class: "x", text: "Go", onclick: fn, "data-testid": "go"}, [children]). */
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children || []) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

const ICONS = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-6z",
  open: "M4 5h16v11H9l-5 4z",
  clock: "M12 7v5l3 2M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z",
  user: "M16 8a4 4 0 1 1-8 0 4 4 0 0 1 8 0zM4 21c0-4 4-6 8-6s8 2 8 6",
  check: "M5 12l5 5L20 7",
  flag: "M5 21V4m0 0h11l-2 4 2 4H5",
  down: "M17 13V4h3v9h-3zm-2-9H6.8a2 2 0 0 0-2 1.6L3.5 12a2 2 0 0 0 2 2.4H10v4a2 2 0 0 0 2 2l3-7V4z",
  up: "M7 11v9H4v-9h3zm2 9h8.2a2 2 0 0 0 2-1.6l1.3-6.4A2 2 0 0 0 18.5 10H14V6a2 2 0 0 0-2-2l-3 7v9z",
  search: "M11 18a7 7 0 1 1 0-14 7 7 0 0 1 0 14zm5-2l5 5",
  filter: "M4 5h16l-6 8v6l-4-2v-4z",
  download: "M12 4v11m0 0l-4-4m4 4l4-4M5 20h14",
  send: "M4 12l16-8-6 16-2.5-6.5L4 12z",
  bot: "M12 3v3M6 8h12a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2zm3 5h.01M15 13h.01",
  close: "M6 6l12 12M18 6L6 18",
  pencil: "M4 20h4L19 9l-4-4L4 16zm10-14l4 4",
  bell: "M6 16V11a6 6 0 1 1 12 0v5l2 2H4zm4 4h4",
  mute: "M6 16V11a6 6 0 0 1 9-5.2M18 11v5l2 2H8M10 20h4M4 4l16 16",
  logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
  note: "M5 4h14v11l-5 5H5zm9 16v-5h5",
  tag: "M3 12V4h8l10 10-8 8zM8 8h.01",
  handback: "M9 14L4 9l5-5M4 9h11a5 5 0 0 1 0 10h-3",
  archive: "M4 7h16M6 7v12h12V7M9 11h6M5 4h14v3H5z",
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  refresh: "M20 12a8 8 0 1 1-2.3-5.7M20 4v4h-4",
  bolt: "M13 3L5 14h6l-1 7 8-11h-6z",
};

/** An inline SVG icon drawn with strokes (no external requests). */
export function icon(name, extra) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon" + (extra ? " " + extra : ""));
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

/** "93%" from 0.934; small values keep a decimal ("0.4%") so the runner-up intents say something. */
export function percent(value) {
  if (value === null || value === undefined) return "–";
  const p = Number(value) * 100;
  if (p >= 10 || p === 0) return Math.round(p) + "%";
  if (p >= 0.1) return p.toFixed(1) + "%";
  return "<0.1%";
}

/** "0.82" from 0.8234. */
export function decimal(value, digits = 2) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

/** "now", "5m", "3h", "Mon", "12 Mar": how long ago, for the inbox. */
export function ago(iso) {
  const then = new Date(iso);
  const seconds = (Date.now() - then.getTime()) / 1000;
  if (seconds < 45) return "now";
  if (seconds < 3600) return Math.round(seconds / 60) + "m";
  if (seconds < 86400) return Math.round(seconds / 3600) + "h";
  if (seconds < 6 * 86400) return then.toLocaleDateString(undefined, { weekday: "short" });
  return then.toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

/** "14:05" today, "12 Mar, 14:05" before. */
export function clock(iso) {
  const then = new Date(iso);
  const time = then.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (then.toDateString() === new Date().toDateString()) return time;
  return then.toLocaleDateString(undefined, { day: "numeric", month: "short" }) + ", " + time;
}

/** "23 Nov, 14:05" (with the year when it is not this year), for the details panel. */
export function shortTime(iso) {
  const then = new Date(iso);
  const options = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  if (then.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return then.toLocaleString(undefined, options);
}

/** Full date and time, for tooltips. */
export function longTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A stable short name for a visitor: conversations carry no customer name. */
export function visitorName(conversationId) {
  return "Visitor " + conversationId.slice(0, 6);
}

/** The avatar of a conversation's (anonymous) customer. */
export function visitorAvatar(conversationId, extra) {
  return avatar(visitorName(conversationId), conversationId, extra, true);
}

const AVATAR_HUES = [212, 262, 152, 24, 330, 190, 44, 280];

/** A round avatar with initials (or a person icon for visitors), coloured by a hash of the key. */
export function avatar(label, key, extra, person = false) {
  let hash = 0;
  for (const ch of key || label) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const hue = AVATAR_HUES[hash % AVATAR_HUES.length];
  const initials = label
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0].toUpperCase())
    .join("");
  const node = el("span", { class: "avatar" + (extra ? " " + extra : ""), "aria-hidden": "true" }, [
    person ? icon("user") : initials,
  ]);
  node.style.setProperty("--avatar-hue", String(hue));
  return node;
}

const STATE_LABELS = { bot: "Bot", waiting: "Waiting", agent: "With agent", closed: "Closed" };

/** A coloured pill for a conversation's state; "With Maya" when an agent holds it. */
export function statePill(summary, me) {
  let label = STATE_LABELS[summary.state] || summary.state;
  if (summary.state === "agent" && summary.assigned_agent) {
    label = me && summary.assigned_agent === me.display_name ? "With you" : "With " + summary.assigned_agent;
  }
  return el("span", { class: "pill pill--" + summary.state, "data-state": summary.state, text: label });
}
