/*
 * An agent's intent label on a customer message: the row under the message (what the bot predicted,
 * the correction if any) and the editor (a dropdown of known intents, or a new intent name).
 */

import { el, icon } from "./dom.js";

const NEW_INTENT = "__new__";
const INTENT_NAME = /^[a-z0-9_]{1,64}$/;

/** The row under a customer message; onEdit() opens the editor. */
export function intentRow(m, predicted, { onEdit }) {
  const row = el("div", { class: "intent-row", "data-testid": "message-intent", "data-label": m.label || "" });
  if (m.label) {
    row.append(
      el("span", { class: "intent-chip intent-chip--label", title: "Corrected by an agent", "data-testid": "intent-label" }, [
        icon("check"),
        m.label,
      ]),
    );
    if (predicted && predicted !== m.label) {
      row.append(el("span", { class: "intent-old", title: "What the bot predicted", text: predicted }));
    }
  } else if (predicted) {
    row.append(el("span", { class: "muted", text: "Intent" }));
    row.append(el("span", { class: "intent-chip", "data-testid": "intent-predicted", text: predicted }));
  } else {
    row.append(el("span", { class: "muted", text: "Not classified" }));
  }
  row.append(
    el("button", { type: "button", class: "link-button", "data-testid": "edit-intent", onclick: onEdit }, [
      icon("pencil"),
      m.label || predicted ? "Correct" : "Label",
    ]),
  );
  return row;
}

/**
 * The editor: save(intent) returns a promise (rejected with an error whose detail is shown);
 * close() is called on Cancel or Escape.
 */
export function intentEditor({ intents, current, save, close }) {
  const select = el("select", { "data-testid": "intent-select", "aria-label": "Intent" });
  const names = [...new Set([...intents, ...(current ? [current] : [])])].sort();
  for (const name of names) select.append(el("option", { value: name, text: name }));
  select.append(el("option", { value: NEW_INTENT, text: "New intent…" }));
  select.value = current || names[0] || NEW_INTENT;
  const fresh = el("input", {
    "data-testid": "intent-new",
    placeholder: "new_intent_name",
    "aria-label": "New intent name",
    maxlength: "64",
    hidden: select.value !== NEW_INTENT,
  });
  const error = el("p", { class: "form-error", role: "alert", hidden: true });
  const saveButton = el("button", {
    type: "submit",
    class: "button button--primary button--small",
    "data-testid": "intent-save",
    text: "Save",
  });
  const cancel = el("button", {
    type: "button",
    class: "button button--ghost button--small",
    "data-testid": "intent-cancel",
    text: "Cancel",
    onclick: close,
  });
  const form = el("form", { class: "intent-editor", "data-testid": "intent-editor" }, [select, fresh, saveButton, cancel, error]);
  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  select.addEventListener("change", () => {
    fresh.hidden = select.value !== NEW_INTENT;
    if (!fresh.hidden) fresh.focus();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const intent = select.value === NEW_INTENT ? fresh.value.trim().toLowerCase() : select.value;
    if (!INTENT_NAME.test(intent)) {
      fail("Use 1–64 lowercase letters, digits or underscores.");
      return;
    }
    saveButton.disabled = true;
    try {
      await save(intent);
    } catch (err) {
      fail(err.detail || String(err));
      saveButton.disabled = false;
    }
  });
  form.focusFirst = () => select.focus();
  return form;
}
