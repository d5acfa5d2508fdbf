/*
 * What the inbox shows: the view (all, waiting, mine…), the search and the intent, tag and date
 * filters, and the export links that follow them.
 */

import { query } from "./api.js";
import { el, icon } from "./dom.js";

export const VIEWS = {
  all: "All",
  open: "Open",
  waiting: "Waiting",
  mine: "Mine",
  closed: "Closed",
  flagged: "Fallback or low confidence",
  negative: "Negative feedback",
};
export const FILTER_FIELDS = ["q", "intent", "tag", "since", "until"];
const SEARCH_PAUSE_MS = 300;

export class Filters {
  /** onChange() is told after every change (the inbox reloads, the URL follows). */
  constructor({ me, onChange }) {
    this.me = me;
    this.onChange = onChange;
    this.values = { status: "all", q: "", intent: "", tag: "", since: "", until: "" };
    this.dom = {
      title: document.getElementById("inbox-title"),
      search: document.getElementById("search"),
      searchForm: document.getElementById("search-form"),
      toggle: document.getElementById("filters-toggle"),
      panel: document.getElementById("filters"),
      intent: document.getElementById("filter-intent"),
      tag: document.getElementById("filter-tag"),
      since: document.getElementById("filter-since"),
      until: document.getElementById("filter-until"),
      clear: document.getElementById("filters-clear"),
      exportToggle: document.getElementById("export-toggle"),
      exportList: document.getElementById("export-list"),
      exportJsonl: document.getElementById("export-jsonl"),
      exportCsv: document.getElementById("export-csv"),
    };
    this.bindControls();
  }

  bindControls() {
    const d = this.dom;
    for (const button of document.querySelectorAll(".view[data-view]")) {
      button.prepend(icon(button.dataset.icon));
      button.addEventListener("click", () => this.set({ status: button.dataset.view }));
    }
    document.getElementById("search-icon").replaceWith(icon("search"));
    d.toggle.append(icon("filter"));
    d.toggle.setAttribute("aria-label", "Filters");
    d.toggle.addEventListener("click", () => this.showPanel(d.panel.hidden));
    let searchTimer = null;
    d.search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => this.set({ q: d.search.value.trim() }), SEARCH_PAUSE_MS);
    });
    d.searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(searchTimer);
      this.set({ q: d.search.value.trim() });
    });
    d.intent.addEventListener("change", () => this.set({ intent: d.intent.value }));
    d.tag.addEventListener("change", () => this.set({ tag: d.tag.value.trim() }));
    d.since.addEventListener("change", () => this.set({ since: d.since.value }));
    d.until.addEventListener("change", () => this.set({ until: d.until.value }));
    d.clear.addEventListener("click", () => this.set({ q: "", intent: "", tag: "", since: "", until: "" }));
    d.exportToggle.append(icon("download"));
    d.exportToggle.addEventListener("click", (event) => {
      event.stopPropagation();
      this.showExportMenu(d.exportList.hidden);
    });
    d.exportList.addEventListener("click", () => this.showExportMenu(false));
    document.addEventListener("click", () => this.showExportMenu(false));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.showExportMenu(false);
    });
  }

  showPanel(open) {
    this.dom.panel.hidden = !open;
    this.dom.toggle.setAttribute("aria-expanded", String(open));
  }

  showExportMenu(open) {
    this.dom.exportList.hidden = !open;
    this.dom.exportToggle.setAttribute("aria-expanded", String(open));
  }

  /** The intent filter's choices: the served model's labels and any an agent has added. */
  setIntents(intents) {
    const select = this.dom.intent;
    select.replaceChildren(el("option", { value: "", text: "Any intent" }));
    for (const name of intents) select.append(el("option", { value: name, text: name }));
    this.sync();
  }

  /** Change some values, show them, and tell the inbox. */
  set(changes) {
    this.assign(changes);
    this.onChange();
  }

  /** Change some values and show them without telling anyone (at start-up). */
  assign(changes) {
    Object.assign(this.values, changes);
    if (!VIEWS[this.values.status]) this.values.status = "all";
    this.sync();
  }

  sync() {
    const f = this.values;
    const d = this.dom;
    for (const button of document.querySelectorAll(".view[data-view]")) {
      button.setAttribute("aria-current", String(button.dataset.view === f.status));
    }
    d.title.textContent = VIEWS[f.status];
    if (document.activeElement !== d.search) d.search.value = f.q;
    if (f.intent && ![...d.intent.options].some((option) => option.value === f.intent)) {
      d.intent.append(el("option", { value: f.intent, text: f.intent }));
    }
    d.intent.value = f.intent;
    d.tag.value = f.tag;
    d.since.value = f.since;
    d.until.value = f.until;
    d.toggle.dataset.active = String(this.narrowed());
    if (this.narrowed()) this.showPanel(true);
    d.exportJsonl.href = "/api/agent/export" + query({ format: "jsonl", ...this.params() });
    d.exportCsv.href = "/api/agent/export" + query({ format: "csv", ...this.params() });
  }

  /** The query parameters of the list and export endpoints. */
  params() {
    const f = this.values;
    return { status: f.status, q: f.q, intent: f.intent, tag: f.tag, since: f.since, until: f.until };
  }

  /** Whether anything beyond the view narrows the list. */
  narrowed() {
    const f = this.values;
    return Boolean(f.intent || f.tag || f.since || f.until);
  }

  /** Whether a conversation belongs here, as far as its summary can tell (view and tag). */
  admits(summary) {
    const f = this.values;
    if (f.tag && !(summary.tags || []).includes(f.tag)) return false;
    switch (f.status) {
      case "waiting":
        return summary.state === "waiting";
      case "mine":
        return summary.assigned_agent === this.me.display_name && summary.state === "agent";
      case "open":
        return summary.state !== "closed";
      case "closed":
        return summary.state === "closed";
      case "flagged":
        return Boolean(summary.flagged);
      case "negative":
        return Boolean(summary.negative_feedback);
      default:
        return true;
    }
  }

  /** Whether only the server can judge a new conversation (search, intent, dates). */
  serverJudged() {
    const f = this.values;
    return Boolean(f.q || f.intent || f.since || f.until);
  }
}
