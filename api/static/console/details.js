/*
 * The details panel of the open conversation: its facts, tags (replaced as a whole) and internal notes.
 */

import { api } from "./api.js";
import { clock, el, icon, longTime, shortTime, statePill } from "./dom.js";

const MAX_TAG = 64;

export class Details {
  /** onSummary(summary): the tags changed, so the inbox redraws the conversation. */
  constructor({ me, onSummary, onError }) {
    this.me = me;
    this.onSummary = onSummary;
    this.onError = onError;
    this.summary = null;
    this.dom = {
      panel: document.getElementById("details"),
      facts: document.getElementById("facts"),
      tags: document.getElementById("tags"),
      tagForm: document.getElementById("tag-form"),
      tagInput: document.getElementById("tag-input"),
      notes: document.getElementById("notes"),
      noteForm: document.getElementById("note-form"),
      noteInput: document.getElementById("note-input"),
      noteAdd: document.getElementById("note-add"),
    };
    this.dom.tagForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.addTag();
    });
    this.dom.noteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.addNote();
    });
    this.dom.noteInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
        event.preventDefault();
        this.addNote();
      }
    });
  }

  show(detail) {
    this.summary = null;
    this.dom.panel.hidden = false;
    this.updateSummary(detail.conversation, true);
    this.dom.notes.replaceChildren(...detail.notes.map((note) => this.renderNote(note)));
  }

  hide() {
    this.summary = null;
    this.dom.panel.hidden = true;
  }

  updateSummary(summary, force = false) {
    if (!force && (!this.summary || summary.id !== this.summary.id)) return;
    this.summary = summary;
    const flags = [];
    if (summary.flagged) flags.push(el("span", { class: "flag flag--flagged" }, [icon("flag"), "Fallback or low confidence"]));
    if (summary.negative_feedback) flags.push(el("span", { class: "flag flag--negative" }, [icon("down"), "Negative feedback"]));
    const facts = [
      ["Status", [statePill(summary, this.me)]],
      ["Assigned", [summary.assigned_agent || "Nobody"]],
      ["Started", [el("time", { datetime: summary.created_at, title: longTime(summary.created_at), text: shortTime(summary.created_at) })]],
      ["Last activity", [el("time", { datetime: summary.updated_at, title: longTime(summary.updated_at), text: shortTime(summary.updated_at) })]],
      ["Messages", [String(summary.message_count)]],
      ["Review", flags.length ? flags : ["Nothing flagged"]],
      ["ID", [el("code", { text: summary.id })]],
    ];
    this.dom.facts.replaceChildren();
    for (const [label, value] of facts) {
      const dd = el("dd", { "data-fact": label.toLowerCase().replace(/\s+/g, "-") }, value);
      if (label === "Review" && flags.length) dd.className = "flag-list";
      this.dom.facts.append(el("dt", { text: label }), dd);
    }
    this.renderTags(summary.tags || []);
  }

  renderTags(tags) {
    this.dom.tags.replaceChildren(
      ...tags.map((tag) =>
        el("li", { class: "tag", "data-testid": "tag", "data-tag": tag }, [
          el("span", { text: tag }),
          el(
            "button",
            {
              type: "button",
              "aria-label": "Remove tag " + tag,
              "data-testid": "tag-remove",
              onclick: () => this.saveTags(tags.filter((t) => t !== tag)),
            },
            [icon("close")],
          ),
        ]),
      ),
    );
  }

  addTag() {
    const tag = this.dom.tagInput.value.trim();
    if (!tag || !this.summary) return;
    if (tag.length > MAX_TAG) return;
    const tags = this.summary.tags || [];
    this.dom.tagInput.value = "";
    if (!tags.includes(tag)) this.saveTags([...tags, tag]);
  }

  async saveTags(tags) {
    const id = this.summary.id;
    try {
      const summary = await api(`/api/agent/conversations/${id}/tags`, { method: "PUT", body: { tags } });
      this.onSummary(summary);
    } catch (err) {
      this.onError(err);
    }
  }

  async addNote() {
    const text = this.dom.noteInput.value.trim();
    if (!text || !this.summary) return;
    const id = this.summary.id;
    this.dom.noteAdd.disabled = true;
    try {
      const note = await api(`/api/agent/conversations/${id}/notes`, { method: "POST", body: { text } });
      if (this.summary && this.summary.id === id) {
        this.dom.notes.append(this.renderNote(note));
        this.dom.noteInput.value = "";
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.dom.noteAdd.disabled = false;
    }
  }

  renderNote(note) {
    return el("li", { class: "note", "data-testid": "note" }, [
      el("div", { class: "note-head" }, [
        el("span", { class: "note-author", text: note.agent || "Agent" }),
        el("time", { datetime: note.created_at, title: longTime(note.created_at), text: clock(note.created_at) }),
      ]),
      el("p", { class: "note-text", text: note.text }),
    ]);
  }
}
