/*
 * Turns answered by Rasa custom actions, under a bot message: the badge of the action that said it, its
 * buttons (shown, not pressable), and on a turn's first reply the "Actions" detail: what ran, how long it
 * took, what failed or which form was rejected, the slots it changed and the tracker events it added.
 */

import { el, icon } from "./dom.js";

const EVENT_TEXT_CHARS = 60; // a bot event's text, cut short in the compact event list

/** The badge with the custom action (or form, or response) that said this bot message; null when none. */
export function actionBadge(m) {
  if (m.role !== "bot" || !m.action) return null;
  return el("div", { class: "action-row" }, [
    el("span", { class: "action-badge", title: "Said by this custom action", "data-testid": "action-badge" }, [
      icon("bolt"),
      el("span", { text: m.action }),
    ]),
  ]);
}

/** The buttons a bot message offered the customer, as chips (title → payload); null when none. */
export function buttonChips(m) {
  const buttons = Array.isArray(m.buttons) ? m.buttons : [];
  if (!buttons.length) return null;
  return el(
    "ul",
    { class: "button-chips", "aria-label": "Buttons offered", "data-testid": "message-buttons" },
    buttons.map((b) =>
      el("li", { class: "button-chip", "data-testid": "message-button", "data-payload": b.payload || "" }, [
        el("span", { class: "button-chip-title", text: b.title || "–" }),
        el("span", { class: "muted", "aria-hidden": "true", text: "→" }),
        el("code", { text: b.payload || "–" }),
      ]),
    ),
  );
}

/** How many turns ran custom actions, and how many of them failed, over a conversation's messages. */
export function actionCounts(messages) {
  let calls = 0;
  let failed = 0;
  for (const m of messages) {
    if (!m.actions) continue;
    calls += 1;
    if (m.actions.failed) failed += 1;
  }
  return { calls, failed };
}

/** "2 action calls, 1 failed". */
export function actionCountText({ calls, failed }) {
  return calls + (calls === 1 ? " action call, " : " action calls, ") + failed + " failed";
}

/** The expandable "Actions" detail of a turn's first reply; null on messages that carry none. */
export function actionsDetail(m) {
  const turn = m.actions;
  if (!turn) return null;
  const names = Array.isArray(turn.actions) ? turn.actions : [];
  const outcome = turn.failed ? "failed" : turn.form_rejected ? "rejected" : "ok";
  const summary = el("summary", { class: "actions-summary", "data-testid": "actions-summary" }, [
    el("span", { class: "actions-title", text: "Actions" }),
    el("span", { class: "muted", text: names.length + (names.length === 1 ? " action" : " actions") + " · " + milliseconds(turn.seconds) }),
    outcome === "failed" ? el("span", { class: "actions-flag actions-flag--failed", text: "Failed" }) : null,
    outcome === "rejected" ? el("span", { class: "actions-flag actions-flag--rejected", text: "Form rejected" }) : null,
  ]);
  const grid = el("dl", { class: "explain-grid" }, [
    el("dt", { text: "Ran" }),
    el("dd", {}, [ranList(names, Boolean(turn.failed))]),
    el("dt", { text: "Took" }),
    el("dd", { "data-testid": "actions-duration", text: milliseconds(turn.seconds) }),
  ]);
  if (turn.failed) {
    grid.append(
      el("dt", { text: "Failed" }),
      el("dd", { class: "actions-failure", role: "alert", "data-testid": "actions-failure" }, [
        el("strong", { class: "mono", text: turn.failed.kind || "Error" }),
        " ",
        el("span", { text: turn.failed.reason || "" }),
      ]),
    );
  }
  if (turn.form_rejected) {
    grid.append(
      el("dt", { text: "Rejected" }),
      el("dd", { class: "actions-rejected", "data-testid": "actions-form-rejected" }, [
        el("code", { text: turn.form_rejected }),
        el("span", { class: "muted", text: " got nothing for the slot it asked for" }),
      ]),
    );
  }
  grid.append(el("dt", { text: "Slots" }), el("dd", {}, [slotChanges(turn.slots_before || {}, turn.slots_after || {})]));
  const events = Array.isArray(turn.events) ? turn.events : [];
  grid.append(el("dt", { text: "Events" }), el("dd", {}, [eventList(events)]));
  return el("details", { class: "explain actions", "data-testid": "actions-detail", "data-outcome": outcome }, [
    summary,
    grid,
  ]);
}

function ranList(names, failed) {
  return el(
    "ol",
    { class: "actions-ran", "data-testid": "actions-ran" },
    names.map((name, i) =>
      el("li", {
        class: "actions-ran-item mono",
        "data-testid": "actions-ran-item",
        "data-failed": String(failed && i === names.length - 1), // the chain stops at the one that failed
        text: name,
      }),
    ),
  );
}

/** The slots the turn changed (before → after), and a toggle that shows every slot. */
function slotChanges(before, after) {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changed = new Set(names.filter((name) => !sameValue(before[name], after[name])));
  const body = el(
    "tbody",
    {},
    names.map((name) =>
      el("tr", { "data-testid": "slot-change", "data-slot": name, "data-changed": String(changed.has(name)) }, [
        el("th", { scope: "row", class: "mono", text: name }),
        el("td", {}, [slotValue(before[name])]),
        el("td", { class: "muted", "aria-hidden": "true", text: "→" }),
        el("td", {}, [slotValue(after[name])]),
      ]),
    ),
  );
  const table = el("table", { class: "slot-changes", "data-all": "false", "data-testid": "slot-changes" }, [
    el("thead", { class: "sr-only" }, [
      el("tr", {}, [el("th", { text: "Slot" }), el("th", { text: "Before" }), el("th", {}), el("th", { text: "After" })]),
    ]),
    body,
  ]);
  const none = el("p", { class: "muted", "data-testid": "slot-changes-none", text: "No slot changed." });
  none.hidden = changed.size > 0;
  const toggle = el("button", {
    type: "button",
    class: "link-button",
    "aria-pressed": "false",
    "data-testid": "slots-all-toggle",
    text: "Show all " + names.length + " slots",
    onclick: () => {
      const all = table.dataset.all !== "true";
      table.dataset.all = String(all);
      toggle.setAttribute("aria-pressed", String(all));
      toggle.textContent = all ? "Only the changed slots" : "Show all " + names.length + " slots";
      none.hidden = all || changed.size > 0;
    },
  });
  return el("div", { class: "slot-changes-box" }, [none, table, names.length ? toggle : null]);
}

function eventList(events) {
  if (!events.length) return el("span", { class: "muted", text: "None" });
  return el(
    "ol",
    { class: "actions-events", "data-testid": "actions-events" },
    events.map((event) =>
      el("li", { class: "actions-event", "data-testid": "actions-event", "data-event": event.event || "" }, [
        el("code", { class: "actions-event-type", text: event.event || "?" }),
        " ",
        el("span", { text: describe(event) }),
      ]),
    ),
  );
}

/** An event in a few words: its name, value or text, whichever it has. */
function describe(event) {
  const parts = [];
  if ("name" in event) parts.push(event.name === null ? "(none)" : String(event.name));
  if ("value" in event) parts.push("= " + display(event.value));
  if (event.text) {
    const text = String(event.text);
    parts.push("“" + (text.length > EVENT_TEXT_CHARS ? text.slice(0, EVENT_TEXT_CHARS - 1) + "…" : text) + "”");
  }
  return parts.join(" ");
}

/** A slot's value for a table cell; an unset slot reads "not set". */
export function slotValue(value) {
  if (value === null || value === undefined) return el("span", { class: "slot-unset", text: "not set" });
  return el("span", { class: "slot-value", text: display(value) });
}

function display(value) {
  if (value === null || value === undefined) return "not set";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function sameValue(a, b) {
  return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
}

function milliseconds(seconds) {
  return seconds === null || seconds === undefined ? "–" : Math.round(Number(seconds) * 1000) + " ms";
}
