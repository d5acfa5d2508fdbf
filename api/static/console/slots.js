/*
 * The "Slots" panel beside the transcript: the open conversation's Rasa slots that are set, and the form it
 * is in. Drawn from the transcript each time it loads, and moved on by a live turn's actions.
 */

import { el } from "./dom.js";
import { slotValue } from "./actions.js";

export class SlotsPanel {
  constructor() {
    this.conversationId = null;
    this.slots = {};
    this.activeForm = null;
    this.dom = {
      panel: document.getElementById("slots-panel"),
      list: document.getElementById("slots"),
    };
  }

  show(detail) {
    this.conversationId = detail.conversation.id;
    this.slots = detail.slots || {};
    this.activeForm = detail.active_form || null;
    this.render();
  }

  hide() {
    this.conversationId = null;
    this.dom.panel.hidden = true;
  }

  /** A live bot message of the open conversation: its turn's actions leave the slots (and form) as they are now. */
  applyMessage(conversationId, message) {
    if (conversationId !== this.conversationId || !message || !message.actions) return;
    const turn = message.actions;
    if (turn.slots_after) this.slots = turn.slots_after;
    for (const event of turn.events || []) {
      if (event.event === "active_loop") this.activeForm = event.name || null;
    }
    this.render();
  }

  render() {
    const names = Object.keys(this.slots).sort();
    this.dom.panel.hidden = names.length === 0;
    const form = this.activeForm ? el("code", { text: this.activeForm }) : el("span", { class: "muted", text: "None" });
    this.dom.list.replaceChildren(
      el("dt", { text: "Form" }),
      el("dd", { "data-testid": "active-form", "data-form": this.activeForm || "" }, [form]),
    );
    const set = names.filter((name) => this.slots[name] !== null && this.slots[name] !== undefined);
    for (const name of set) {
      this.dom.list.append(
        el("dt", { class: "mono", "data-testid": "slot-name", text: name }),
        el("dd", { "data-testid": "slot", "data-slot": name }, [slotValue(this.slots[name])]),
      );
    }
    if (!set.length) this.dom.list.append(el("dd", { class: "muted slots-none", text: "No slot is set." }));
  }
}
