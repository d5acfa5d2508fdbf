/*
 * The inbox: the list of conversations the filters select, newest first, with "load more" by cursor,
 * live updates from the agent socket, the customer typing, and the count of waiting conversations.
 */

import { api, query } from "./api.js";
import { ago, el, icon, statePill, visitorAvatar, visitorName } from "./dom.js";

const PAGE_SIZE = 50;
const WAITING_SCAN = 200; // the API's largest page: the badge says "200+" beyond it
const TYPING_TIMEOUT_MS = 6000; // the widget repeats "typing" every 2 s while the customer types

export class Inbox {
  /** filters: a Filters; onSelect(id) opens a conversation. */
  constructor({ me, filters, onSelect, onError }) {
    this.me = me;
    this.filters = filters;
    this.onSelect = onSelect;
    this.onError = onError;
    this.summaries = new Map(); // id -> summary, for the conversations in the list
    this.nodes = new Map(); // id -> <li>
    this.nextCursor = null;
    this.selectedId = null;
    this.loadSeq = 0;
    this.waiting = new Set();
    this.waitingOverflow = false;
    this.unread = new Set();
    this.typing = new Map(); // id -> timer that clears the "typing…" preview
    this.dom = {
      list: document.getElementById("conversation-list"),
      empty: document.getElementById("inbox-empty"),
      loading: document.getElementById("inbox-loading"),
      more: document.getElementById("load-more"),
      banner: document.getElementById("refresh-banner"),
      badge: document.getElementById("waiting-count"),
    };
    this.bindControls();
    setInterval(() => this.refreshTimes(), 30000);
  }

  bindControls() {
    this.dom.more.addEventListener("click", () => this.loadMore());
    this.dom.banner.addEventListener("click", () => this.reload());
    this.dom.list.setAttribute("role", "listbox");
    this.dom.list.addEventListener("keydown", (event) => this.onListKey(event));
  }

  // ------------------------------------------------------------ loading

  async reload() {
    const seq = ++this.loadSeq;
    this.dom.banner.hidden = true;
    this.dom.loading.hidden = false;
    this.dom.more.hidden = true;
    try {
      const page = await api("/api/agent/conversations" + query({ ...this.filters.params(), limit: PAGE_SIZE }));
      if (seq !== this.loadSeq) return;
      this.summaries.clear();
      this.nodes.clear();
      this.dom.list.replaceChildren();
      this.appendPage(page);
    } catch (err) {
      if (seq === this.loadSeq) this.onError(err);
    } finally {
      if (seq === this.loadSeq) this.dom.loading.hidden = true;
    }
  }

  async loadMore() {
    if (!this.nextCursor) return;
    const seq = this.loadSeq;
    this.dom.more.disabled = true;
    try {
      const params = { ...this.filters.params(), limit: PAGE_SIZE, cursor: this.nextCursor };
      const page = await api("/api/agent/conversations" + query(params));
      if (seq === this.loadSeq) this.appendPage(page);
    } catch (err) {
      this.onError(err);
    } finally {
      this.dom.more.disabled = false;
    }
  }

  appendPage(page) {
    for (const summary of page.items) {
      this.trackWaiting(summary);
      if (this.summaries.has(summary.id)) continue;
      this.summaries.set(summary.id, summary);
      const node = this.renderItem(summary);
      this.nodes.set(summary.id, node);
      this.dom.list.append(node);
    }
    this.nextCursor = page.next_cursor || null;
    this.dom.more.hidden = !this.nextCursor;
    this.updateEmpty();
  }

  /** Count the conversations waiting for a person (the sidebar badge and the page title). */
  async refreshWaiting() {
    try {
      const page = await api("/api/agent/conversations" + query({ status: "waiting", limit: WAITING_SCAN }));
      this.waiting = new Set(page.items.map((s) => s.id));
      this.waitingOverflow = Boolean(page.next_cursor);
      this.renderBadge();
    } catch (err) {
      this.onError(err);
    }
  }

  trackWaiting(summary) {
    const before = this.waiting.size;
    if (summary.state === "waiting") this.waiting.add(summary.id);
    else this.waiting.delete(summary.id);
    if (this.waiting.size !== before) this.renderBadge();
  }

  renderBadge() {
    const count = this.waiting.size;
    const badge = this.dom.badge;
    badge.textContent = count + (this.waitingOverflow ? "+" : "");
    badge.hidden = count === 0;
    badge.setAttribute("aria-label", count + " waiting");
    document.title = (count ? "(" + count + ") " : "") + "Helpline console";
  }

  pulseBadge() {
    const badge = this.dom.badge;
    badge.dataset.pulse = "false";
    void badge.offsetWidth; // restart the animation
    badge.dataset.pulse = "true";
  }

  // ------------------------------------------------------------ live updates

  /** A conversation changed (socket event or our own action): update, move to the top, or note it. */
  upsert(summary) {
    this.trackWaiting(summary);
    const present = this.summaries.has(summary.id);
    const fits = this.filters.admits(summary);
    if (present) {
      const old = this.summaries.get(summary.id);
      if (!fits && summary.id !== this.selectedId) {
        this.remove(summary.id);
        return;
      }
      this.summaries.set(summary.id, summary);
      const node = this.renderItem(summary);
      this.nodes.get(summary.id).replaceWith(node);
      this.nodes.set(summary.id, node);
      if (summary.updated_at !== old.updated_at) this.dom.list.prepend(node);
    } else if (fits && !this.filters.serverJudged()) {
      this.summaries.set(summary.id, summary);
      const node = this.renderItem(summary);
      this.nodes.set(summary.id, node);
      this.dom.list.prepend(node);
    } else if (fits) {
      this.dom.banner.hidden = false; // the server decides whether it matches the search: offer a refresh
    }
    this.updateEmpty();
  }

  remove(id) {
    const node = this.nodes.get(id);
    if (node) node.remove();
    this.nodes.delete(id);
    this.summaries.delete(id);
    this.updateEmpty();
  }

  /** A conversation was erased: it leaves the list and the waiting count. */
  forget(id) {
    this.remove(id);
    if (this.waiting.delete(id)) this.renderBadge();
  }

  markUnread(id) {
    if (id === this.selectedId) return;
    this.unread.add(id);
    const node = this.nodes.get(id);
    if (node) node.dataset.unread = "true";
  }

  setTyping(id, active) {
    clearTimeout(this.typing.get(id));
    this.typing.delete(id);
    if (active) this.typing.set(id, setTimeout(() => this.setTyping(id, false), TYPING_TIMEOUT_MS));
    const node = this.nodes.get(id);
    const summary = this.summaries.get(id);
    if (node && summary) this.fillPreview(node.querySelector(".item-preview"), summary);
  }

  /** The last message, or "Customer is typing…" while they are. */
  fillPreview(preview, summary) {
    const typing = this.typing.has(summary.id);
    preview.dataset.typing = String(typing);
    preview.textContent = typing ? "Customer is typing…" : summary.last_message || "No messages yet";
  }

  select(id) {
    this.selectedId = id;
    this.unread.delete(id);
    for (const [itemId, node] of this.nodes) {
      node.setAttribute("aria-selected", String(itemId === id));
      if (itemId === id) node.dataset.unread = "false";
    }
  }

  refreshTimes() {
    for (const [id, node] of this.nodes) {
      const time = node.querySelector(".item-time");
      if (time) time.textContent = ago(this.summaries.get(id).updated_at);
    }
  }

  updateEmpty() {
    this.dom.empty.hidden = this.nodes.size > 0 || !this.dom.loading.hidden;
    const filtered = this.filters.narrowed() || this.filters.values.q;
    this.dom.empty.textContent = filtered ? "No conversations match these filters." : "No conversations here.";
  }

  // ------------------------------------------------------------ rendering

  renderItem(summary) {
    const name = visitorName(summary.id);
    const preview = el("p", { class: "item-preview", "data-testid": "conversation-preview" });
    this.fillPreview(preview, summary);
    const meta = [statePill(summary, this.me)];
    if (summary.flagged) {
      meta.push(el("span", { class: "flag flag--flagged", title: "A fallback or low-confidence answer" }, [icon("flag"), "Review"]));
    }
    if (summary.negative_feedback) {
      meta.push(el("span", { class: "flag flag--negative", title: "The customer rated an answer down" }, [icon("down")]));
    }
    for (const tag of summary.tags || []) meta.push(el("span", { class: "chip", text: tag }));
    const item = el(
      "li",
      {
        class: "item",
        role: "option",
        tabindex: "0",
        "aria-selected": String(summary.id === this.selectedId),
        "data-testid": "conversation-item",
        "data-id": summary.id,
        "data-state": summary.state,
        "data-unread": String(this.unread.has(summary.id)),
        onclick: () => this.onSelect(summary.id),
      },
      [
        visitorAvatar(summary.id),
        el("div", { class: "item-main" }, [
          el("div", { class: "item-top" }, [
            el("span", { class: "item-name", text: name }),
            el("time", { class: "item-time", datetime: summary.updated_at, text: ago(summary.updated_at) }),
          ]),
          preview,
          el("div", { class: "item-meta" }, meta),
        ]),
      ],
    );
    return item;
  }

  onListKey(event) {
    const node = event.target.closest(".item");
    if (!node) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.onSelect(node.dataset.id);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = event.key === "ArrowDown" ? node.nextElementSibling : node.previousElementSibling;
      if (next) next.focus();
    }
  }
}
