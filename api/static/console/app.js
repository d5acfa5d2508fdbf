/*
 * The agent console (/agent): who is signed in, the inbox, the open conversation and its details,
 * wired to the agent socket, and the learning pages (unanswered questions, models). The view, filters,
 * open conversation and page live in the URL's hash, so a reload or a shared link shows the same thing.
 */

import { api, ApiError } from "./api.js";
import { chime, installChime, isMuted, setMuted } from "./chime.js";
import { Details } from "./details.js";
import { avatar, icon, visitorName } from "./dom.js";
import { FILTER_FIELDS, Filters, VIEWS } from "./filters.js";
import { GapsView } from "./gaps.js";
import { Inbox } from "./inbox.js";
import { ModelsView } from "./models.js";
import { ProposalsView } from "./proposals.js";
import { SlotsPanel } from "./slots.js";
import { AgentSocket } from "./socket.js";
import { dismissToasts, toast } from "./toast.js";
import { Transcript } from "./transcript.js";

class Console {
  constructor(me) {
    this.me = me;
    this.root = document.getElementById("app");
    this.openId = null;
    this.openSeq = 0;
    this.intents = [];
    this.page = null; // "gaps" | "proposals" | "models" while a learning page replaces the inbox
    const onError = (err) => this.showError(err);
    this.filters = new Filters({
      me,
      onChange: () => {
        this.writeHash();
        this.inbox.reload();
      },
    });
    this.inbox = new Inbox({ me, filters: this.filters, onSelect: (id) => this.open(id), onError });
    this.transcript = new Transcript({
      me,
      onSummary: (summary) => this.applySummary(summary),
      onTyping: (id, active) => this.socket.send({ type: "typing", conversation_id: id, active }),
      onIntentAdded: (name) => this.setIntents([...this.intents, name]),
      onError,
    });
    this.details = new Details({ me, onSummary: (summary) => this.applySummary(summary), onError });
    this.slots = new SlotsPanel();
    this.gaps = new GapsView({
      me,
      intents: () => this.intents,
      onIntentAdded: (name) => this.setIntents([...this.intents, name]),
      onProposed: () => this.proposals.refreshCount(),
      onError,
    });
    this.proposals = new ProposalsView({ me, onError });
    this.models = new ModelsView({ onError });
    this.socket = new AgentSocket({
      onEvent: (frame) => this.onEvent(frame),
      onStatus: (status, info) => this.onSocketStatus(status, info),
    });
  }

  async start() {
    this.renderMe();
    installChime();
    const wanted = this.readHash();
    this.filters.assign(wanted.filters);
    this.socket.connect();
    const intents = api("/api/agent/intents").then(
      (names) => this.setIntents(names),
      (err) => this.showError(err),
    );
    this.bindPages();
    this.proposals.refreshCount();
    if (wanted.page) this.showPage(wanted.page);
    await Promise.all([this.inbox.reload(), this.inbox.refreshWaiting(), intents]);
    if (wanted.conversation) await this.open(wanted.conversation);
    window.addEventListener("hashchange", () => this.followHash());
  }

  renderMe() {
    document.getElementById("me-avatar").replaceWith(avatar(this.me.display_name, "agent:" + this.me.display_name, "avatar--small"));
    document.getElementById("me-name").textContent = this.me.display_name;
    document.getElementById("me-role").textContent = this.me.role;
    const logout = document.getElementById("logout");
    logout.append(icon("logout"));
    logout.addEventListener("click", () => this.logout());
    const mute = document.getElementById("mute");
    const renderMute = () => {
      const muted = isMuted();
      mute.replaceChildren(icon(muted ? "mute" : "bell"));
      mute.setAttribute("aria-pressed", String(muted));
      mute.setAttribute("aria-label", muted ? "Unmute the handoff sound" : "Mute the handoff sound");
      mute.title = mute.getAttribute("aria-label");
    };
    mute.addEventListener("click", () => {
      setMuted(!isMuted());
      renderMute();
    });
    renderMute();
  }

  setIntents(names) {
    this.intents = [...new Set(names)].sort();
    this.filters.setIntents(this.intents);
    this.transcript.setIntents(this.intents);
    if (this.page) this.markPage(); // the filters redraw the inbox views
  }

  // ------------------------------------------------------------ learning pages

  bindPages() {
    for (const button of document.querySelectorAll(".view[data-page]")) {
      button.prepend(icon(button.dataset.icon));
      button.addEventListener("click", () => this.showPage(button.dataset.page));
    }
    // an inbox view (All, Waiting…) brings the inbox back
    for (const button of document.querySelectorAll(".view[data-view]")) {
      button.addEventListener("click", () => this.showPage(null));
    }
  }

  /** Show a learning page instead of the inbox ("gaps", "proposals", "models"), or the inbox again (null). */
  showPage(page) {
    const pages = { gaps: this.gaps, proposals: this.proposals, models: this.models };
    if (page && !pages[page]) page = null;
    this.page = page;
    if (page) this.root.dataset.page = page;
    else delete this.root.dataset.page;
    document.getElementById("gaps-page").hidden = page !== "gaps";
    document.getElementById("proposals-page").hidden = page !== "proposals";
    document.getElementById("models-page").hidden = page !== "models";
    this.markPage();
    if (page === "gaps") this.gaps.reload();
    if (page === "proposals") this.proposals.reload();
    if (page === "models") this.models.show();
    else this.models.hide();
    this.writeHash();
  }

  /** The sidebar marks the page, not the inbox view behind it; without a page, the inbox view. */
  markPage() {
    for (const button of document.querySelectorAll(".view[data-page]")) {
      button.setAttribute("aria-current", String(button.dataset.page === this.page));
    }
    if (!this.page) this.filters.sync();
    else for (const button of document.querySelectorAll(".view[data-view]")) button.setAttribute("aria-current", "false");
  }

  // ------------------------------------------------------------ the open conversation

  async open(id) {
    const seq = ++this.openSeq;
    this.inbox.select(id);
    try {
      const detail = await api(`/api/agent/conversations/${encodeURIComponent(id)}`);
      if (seq !== this.openSeq) return;
      this.openId = id;
      this.root.dataset.open = "true";
      dismissToasts(id); // the agent is looking at it now
      this.transcript.show(detail);
      this.details.show(detail);
      this.slots.show(detail);
      this.inbox.upsert(detail.conversation);
      this.writeHash();
    } catch (err) {
      if (seq !== this.openSeq) return;
      if (err instanceof ApiError && err.status === 404) {
        this.close();
        toast("That conversation does not exist.", { kind: "error" });
      } else {
        this.showError(err);
      }
    }
  }

  close() {
    this.openId = null;
    this.root.dataset.open = "false";
    this.inbox.select(null);
    this.transcript.hide();
    this.details.hide();
    this.slots.hide();
    this.writeHash();
  }

  /** A conversation changed: every part that shows it redraws. */
  applySummary(summary) {
    this.inbox.upsert(summary);
    if (summary.id === this.openId) {
      this.transcript.updateSummary(summary);
      this.details.updateSummary(summary);
    }
  }

  // ------------------------------------------------------------ live events

  onEvent(frame) {
    switch (frame.type) {
      case "conversation.updated":
        this.applySummary(frame.conversation);
        break;
      case "message":
        if (frame.conversation_id === this.openId) {
          this.transcript.addMessage(frame.message);
          this.slots.applyMessage(frame.conversation_id, frame.message);
        } else {
          this.inbox.markUnread(frame.conversation_id);
        }
        if (frame.message && frame.message.role === "customer") this.inbox.setTyping(frame.conversation_id, false);
        break;
      case "handoff.requested":
        this.applySummary(frame.conversation);
        this.announceHandoff(frame.conversation, frame.reason);
        break;
      case "conversation.erased":
        this.inbox.forget(frame.conversation_id);
        dismissToasts(frame.conversation_id);
        if (frame.conversation_id === this.openId) {
          this.close();
          toast("That conversation was erased.", { kind: "error" });
        }
        break;
      case "typing":
        this.inbox.setTyping(frame.conversation_id, Boolean(frame.active));
        if (frame.conversation_id === this.openId) this.transcript.setCustomerTyping(Boolean(frame.active));
        break;
      case "refresh":
        // Live events cannot cross servers right now (Redis is out): read what changed from the database.
        this.setConnectionText("Live updates limited", "Reading updates from the database until live events are back");
        this.catchUp();
        break;
      case "hello":
        this.setConnectionText("Live", "Live updates are on");
        break;
      default:
        break; // anything newer than this page
    }
  }

  setConnectionText(text, title) {
    document.getElementById("connection-text").textContent = text;
    document.getElementById("connection").title = title;
  }

  /** Read the inbox, the waiting count and the open conversation again (events may have been missed). */
  catchUp() {
    this.inbox.reload();
    this.inbox.refreshWaiting();
    if (this.openId) this.open(this.openId);
  }

  announceHandoff(summary, reason) {
    const name = visitorName(summary.id);
    const text = reason === "fallbacks" ? name + ": the bot could not help twice" : name + " asked for a person";
    if (chime()) this.root.dataset.chimes = String(Number(this.root.dataset.chimes || 0) + 1);
    this.inbox.pulseBadge();
    toast(text, { kind: "handoff", key: summary.id, action: { label: "Open", run: () => this.open(summary.id) } });
  }

  onSocketStatus(status, { resumed }) {
    const box = document.getElementById("connection");
    box.dataset.state = status;
    const text = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" }[status];
    document.getElementById("connection-text").textContent = text;
    box.title = status === "live" ? "Live updates are on" : "Live updates are paused";
    if (resumed) this.catchUp(); // events may have been missed while offline
  }

  // ------------------------------------------------------------ the URL

  readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const filters = {};
    const view = params.get("view");
    if (view && VIEWS[view]) filters.status = view;
    for (const name of FILTER_FIELDS) filters[name] = params.get(name) || "";
    return { filters, conversation: params.get("c") || null, page: params.get("page") || null };
  }

  writeHash() {
    const params = new URLSearchParams();
    const f = this.filters.values;
    if (f.status !== "all") params.set("view", f.status);
    for (const name of FILTER_FIELDS) if (f[name]) params.set(name, f[name]);
    if (this.openId) params.set("c", this.openId);
    if (this.page) params.set("page", this.page);
    const hash = params.toString();
    if (hash !== location.hash.slice(1)) history.replaceState(null, "", hash ? "#" + hash : location.pathname);
  }

  followHash() {
    const wanted = this.readHash();
    this.filters.set({ status: "all", ...wanted.filters });
    if (wanted.page !== this.page) this.showPage(wanted.page);
    if (wanted.conversation && wanted.conversation !== this.openId) this.open(wanted.conversation);
  }

  async logout() {
    this.socket.stop();
    try {
      await api("/api/auth/logout", { method: "POST", allowUnauthorized: true });
    } catch (_) {
      /* signed out locally either way */
    }
    location.assign("/agent/login");
  }

  showError(err) {
    const text = err instanceof ApiError ? err.detail : "Something went wrong: " + err;
    toast(text, { kind: "error" });
  }
}

async function boot() {
  let me;
  try {
    me = await api("/api/agent/me");
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      document.getElementById("boot").textContent = "The console could not load: " + (err.detail || err);
    }
    return;
  }
  const app = new Console(me.agent || me);
  document.getElementById("boot").hidden = true;
  document.getElementById("app").hidden = false;
  await app.start();
  window.HelplineConsole = app; // for debugging from the browser console
}

boot();
