/* Short messages at the bottom right: errors, and handoff requests with a button to open them. */

import { el, icon } from "./dom.js";

const SHOWN_MS = { info: 4000, error: 7000, handoff: 12000 };

/** Show a toast; action is {label, run} for a button that also dismisses it; key lets it be dismissed later. */
export function toast(text, { kind = "info", action = null, key = null } = {}) {
  const box = document.getElementById("toasts");
  const node = el("div", { class: "toast", "data-kind": kind, "data-testid": "toast", role: kind === "error" ? "alert" : "status" }, [
    el("span", { text }),
  ]);
  if (key) node.dataset.key = key;
  if (action) {
    node.append(
      el("button", {
        type: "button",
        class: "button button--small",
        text: action.label,
        onclick: () => {
          node.remove();
          action.run();
        },
      }),
    );
  }
  node.append(
    el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => node.remove() }, [icon("close")]),
  );
  box.append(node);
  setTimeout(() => node.remove(), SHOWN_MS[kind] || SHOWN_MS.info);
  return node;
}

/** Remove the toasts shown with this key (a handoff request the agent has now opened). */
export function dismissToasts(key) {
  for (const node of document.querySelectorAll("#toasts .toast")) {
    if (node.dataset.key === key) node.remove();
  }
}
