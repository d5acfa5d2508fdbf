/*
 * The open conversation: its messages with the explanation of every bot turn, the custom actions that
 * answered it, intent corrections, good/bad reviews, accept / hand back / close, the customer's typing, and the reply box.
 */

import { actionBadge, actionCounts, actionCountText, actionsDetail, buttonChips } from "./actions.js";
import { api } from "./api.js";
import { avatar, clock, el, icon, longTime, statePill, visitorAvatar, visitorName } from "./dom.js";
import { explains, explanation } from "./explain.js";
import { intentEditor, intentRow } from "./labels.js";

const TYPING_REPEAT_MS = 2000; // tell the customer again while the agent keeps typing
const TYPING_IDLE_MS = 5000; // stopped typing without sending
const CUSTOMER_TYPING_TIMEOUT_MS = 6000;
const NEAR_BOTTOM_PX = 120;

export class Transcript {
  /**
   * onSummary(summary): a conversation changed through an action here.
   * onTyping(conversationId, active): the agent is (not) typing a reply.
   * onIntentAdded(name): an agent used a new intent name.
   */
  constructor({ me, onSummary, onTyping, onIntentAdded, onError }) {
    this.me = me;
    this.onSummary = onSummary;
    this.onTyping = onTyping;
    this.onIntentAdded = onIntentAdded;
    this.onError = onError;
    this.intents = [];
    this.summary = null;
    this.messages = new Map(); // id -> MessageView
    this.nodes = new Map(); // id -> element
    this.editing = new Set(); // customer message ids whose intent editor is open
    this.drafts = new Map(); // conversation id -> unsent reply
    this.typingSent = { active: false, at: 0, idleTimer: null };
    this.customerTypingTimer = null;
    this.dom = {
      thread: document.getElementById("thread"),
      placeholder: document.getElementById("placeholder"),
      avatar: document.getElementById("thread-avatar"),
      name: document.getElementById("thread-name"),
      state: document.getElementById("thread-state"),
      meta: document.getElementById("thread-meta"),
      actionCount: document.getElementById("thread-actions"),
      accept: document.getElementById("accept"),
      handback: document.getElementById("handback"),
      close: document.getElementById("close"),
      explain: document.getElementById("explain-toggle"),
      log: document.getElementById("transcript"),
      typing: document.getElementById("customer-typing"),
      composer: document.getElementById("composer"),
      hint: document.getElementById("composer-hint"),
      input: document.getElementById("composer-input"),
      send: document.getElementById("composer-send"),
    };
    this.bindControls();
  }

  bindControls() {
    const d = this.dom;
    document.getElementById("placeholder-icon").replaceWith(icon("chat"));
    d.accept.addEventListener("click", () => this.act("accept"));
    d.handback.prepend(icon("handback"));
    d.handback.addEventListener("click", () => this.act("handback"));
    d.close.prepend(icon("check"));
    d.close.addEventListener("click", () => this.act("close"));
    d.explain.addEventListener("change", () => {
      d.log.dataset.explain = String(d.explain.checked);
    });
    d.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendReply();
    });
    d.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendReply();
      }
    });
    d.input.addEventListener("input", () => this.onDraftInput());
  }

  setIntents(intents) {
    this.intents = intents;
  }

  get conversationId() {
    return this.summary ? this.summary.id : null;
  }

  get mine() {
    return Boolean(this.summary && this.summary.state === "agent" && this.summary.assigned_agent === this.me.display_name);
  }

  // ------------------------------------------------------------ showing a conversation

  show(detail) {
    const sameConversation = this.conversationId === detail.conversation.id;
    const keepScroll = sameConversation ? this.dom.log.scrollTop : null;
    if (!sameConversation) this.leaveConversation();
    this.summary = detail.conversation;
    this.messages.clear();
    this.nodes.clear();
    this.editing.clear();
    this.dom.log.replaceChildren(this.dom.typing); // the typing dots stay last, under the newest message
    for (const message of detail.messages) this.messages.set(message.id, message);
    for (const message of detail.messages) this.appendNode(message);
    this.dom.placeholder.hidden = true;
    this.dom.thread.hidden = false;
    this.updateSummary(detail.conversation);
    this.updateActionCount();
    if (!sameConversation) {
      this.setCustomerTyping(false);
      this.dom.input.value = this.drafts.get(this.summary.id) || "";
      this.dom.log.scrollTop = this.dom.log.scrollHeight;
    } else {
      this.dom.log.scrollTop = keepScroll;
    }
  }

  /** Tell the customer we stopped typing, and keep the draft, before switching conversations. */
  leaveConversation() {
    if (!this.summary) return;
    this.drafts.set(this.summary.id, this.dom.input.value);
    this.stopTyping();
  }

  hide() {
    this.leaveConversation();
    this.summary = null;
    this.dom.thread.hidden = true;
    this.dom.placeholder.hidden = false;
  }

  updateSummary(summary) {
    if (!this.summary || summary.id !== this.summary.id) return;
    const wasMine = this.mine;
    this.summary = summary;
    const d = this.dom;
    const name = visitorName(summary.id);
    d.avatar.replaceChildren(visitorAvatar(summary.id));
    d.name.textContent = name;
    d.state.replaceChildren(statePill(summary, this.me));
    d.state.dataset.state = summary.state;
    d.meta.textContent = summary.message_count + (summary.message_count === 1 ? " message" : " messages") + " · started " + clock(summary.created_at);
    d.meta.title = "Started " + longTime(summary.created_at);

    const admin = this.me.role === "admin";
    d.accept.hidden = !(summary.state === "waiting" || summary.state === "bot");
    d.accept.textContent = summary.state === "bot" ? "Take over" : "Accept";
    d.handback.hidden = !(summary.state === "agent" && (this.mine || admin));
    d.close.hidden = !(summary.state === "agent" && (this.mine || admin));

    d.composer.dataset.enabled = String(this.mine);
    d.input.disabled = !this.mine;
    d.send.disabled = !this.mine || !d.input.value.trim();
    d.hint.textContent = this.composerHint(summary);
    d.input.placeholder = this.mine ? "Reply to the customer…  (Enter to send, Shift+Enter for a new line)" : "";
    if (this.mine && !wasMine) d.input.focus();
    if (!this.mine && wasMine) this.stopTyping();
  }

  composerHint(summary) {
    if (this.mine) return "";
    if (summary.state === "waiting") return "The customer is waiting for a person. Accept the conversation to reply.";
    if (summary.state === "bot") return "The bot is answering. Take over to reply yourself.";
    if (summary.state === "agent") return (summary.assigned_agent || "Another agent") + " is handling this conversation.";
    return "This conversation is closed. It reopens with the bot if the customer writes again.";
  }

  // ------------------------------------------------------------ messages

  /** A message arrived live or from our own send: add it, or redraw it if we have it. */
  addMessage(message) {
    const log = this.dom.log;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    const known = this.messages.has(message.id);
    this.messages.set(message.id, message);
    if (known) this.redraw(message.id);
    else this.appendNode(message);
    if (message.role === "bot" && message.in_reply_to && this.messages.has(message.in_reply_to)) {
      this.redraw(message.in_reply_to); // the customer message now has the bot's intent
    }
    if (message.role === "customer") this.setCustomerTyping(false);
    if (message.actions) this.updateActionCount();
    if (nearBottom || message.role === "agent") log.scrollTop = log.scrollHeight;
  }

  /** "N action calls, M failed" in the header, from the turns answered by custom actions. */
  updateActionCount() {
    const counts = actionCounts(this.messages.values());
    const box = this.dom.actionCount;
    box.hidden = counts.calls === 0;
    box.dataset.failed = String(counts.failed);
    box.textContent = actionCountText(counts);
  }

  appendNode(message) {
    const node = this.renderMessage(message);
    this.nodes.set(message.id, node);
    this.dom.log.insertBefore(node, this.dom.typing);
  }

  redraw(id) {
    const old = this.nodes.get(id);
    if (!old || this.editing.has(id)) return;
    const node = this.renderMessage(this.messages.get(id));
    const wasOpen = old.querySelector(".actions[open]"); // a review redraws the reply: keep its Actions open
    if (wasOpen) node.querySelector(".actions").open = true;
    old.replaceWith(node);
    this.nodes.set(id, node);
  }

  renderMessage(m) {
    if (m.role === "system") {
      return el("div", { class: "msg-system", "data-testid": "message", "data-role": "system", "data-id": m.id }, [
        el("span", { text: m.text + " · " + clock(m.created_at) }),
      ]);
    }
    const author = m.role === "customer" ? visitorName(this.summary.id) : m.role === "bot" ? "Bot" : m.agent || "Agent";
    const face =
      m.role === "bot"
        ? el("span", { class: "bot-avatar", "aria-hidden": "true" }, [icon("bot")])
        : m.role === "customer"
          ? visitorAvatar(this.summary.id)
          : avatar(author, "agent:" + author);
    const body = el("div", { class: "msg-body" }, [
      el("div", { class: "msg-head" }, [
        el("span", { class: "msg-author", text: author }),
        el("time", { datetime: m.created_at, title: longTime(m.created_at), text: clock(m.created_at) }),
      ]),
      el("div", { class: "bubble", "data-testid": "message-text", text: m.text }),
    ]);
    if (m.role === "customer") {
      body.append(intentRow(m, this.predictedIntent(m), { onEdit: () => this.openIntentEditor(m.id) }));
    }
    if (m.role === "bot") body.append(...[actionBadge(m), buttonChips(m), actionsDetail(m)].filter(Boolean));
    if (explains(m)) body.append(explanation(m, { onReview: (verdict) => this.review(m.id, verdict) }));
    return el("div", { class: "msg", "data-testid": "message", "data-role": m.role, "data-id": m.id }, [face, body]);
  }

  /** The intent the bot gave a customer message (stored on it, or on the reply to it). */
  predictedIntent(m) {
    if (m.intent) return m.intent;
    for (const message of this.messages.values()) {
      if (message.role === "bot" && message.in_reply_to === m.id) return message.intent;
    }
    return null;
  }

  openIntentEditor(id) {
    const node = this.nodes.get(id);
    if (!node || node.querySelector(".intent-editor")) return;
    this.editing.add(id);
    const m = this.messages.get(id);
    const close = () => {
      this.editing.delete(id);
      this.redraw(id);
    };
    const save = async (intent) => {
      const updated = await api(`/api/agent/messages/${id}/intent`, { method: "PUT", body: { intent } });
      this.messages.set(id, updated);
      close();
      if (!this.intents.includes(intent)) this.onIntentAdded(intent);
    };
    const current = m.label || this.predictedIntent(m) || "";
    const editor = intentEditor({ intents: this.intents, current, save, close });
    node.querySelector(".intent-row").after(editor);
    editor.focusFirst();
  }

  async review(id, verdict) {
    try {
      const updated = await api(`/api/agent/messages/${id}/review`, { method: "PUT", body: { verdict } });
      this.messages.set(id, updated);
      this.redraw(id);
    } catch (err) {
      this.onError(err);
    }
  }

  // ------------------------------------------------------------ handoff actions

  async act(action) {
    if (!this.summary) return;
    const id = this.summary.id;
    const button = this.dom[action];
    button.disabled = true;
    try {
      const summary = await api(`/api/agent/conversations/${id}/${action}`, { method: "POST" });
      if (summary && summary.id) this.onSummary(summary);
    } catch (err) {
      this.onError(err);
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------ replying and typing

  async sendReply() {
    const d = this.dom;
    const text = d.input.value.trim();
    if (!text || !this.mine) return;
    const id = this.summary.id;
    d.send.disabled = true;
    d.input.value = "";
    this.stopTyping();
    try {
      const message = await api(`/api/agent/conversations/${id}/messages`, { method: "POST", body: { text } });
      this.drafts.delete(id);
      if (this.conversationId === id && message && message.id !== undefined) this.addMessage(message);
    } catch (err) {
      if (this.conversationId === id && !d.input.value) d.input.value = text; // keep what was typed
      this.onError(err);
    } finally {
      d.send.disabled = !this.mine || !d.input.value.trim();
    }
  }

  onDraftInput() {
    const d = this.dom;
    const hasText = Boolean(d.input.value.trim());
    d.send.disabled = !this.mine || !hasText;
    if (!this.mine) return;
    const t = this.typingSent;
    clearTimeout(t.idleTimer);
    if (!hasText) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (!t.active || now - t.at >= TYPING_REPEAT_MS) {
      this.onTyping(this.summary.id, true);
      t.active = true;
      t.at = now;
    }
    t.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    const t = this.typingSent;
    clearTimeout(t.idleTimer);
    if (t.active && this.summary) this.onTyping(this.summary.id, false);
    t.active = false;
  }

  setCustomerTyping(active) {
    clearTimeout(this.customerTypingTimer);
    const log = this.dom.log;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    this.dom.typing.hidden = !active;
    if (active && nearBottom) log.scrollTop = log.scrollHeight;
    if (active) this.customerTypingTimer = setTimeout(() => this.setCustomerTyping(false), CUSTOMER_TYPING_TIMEOUT_MS);
  }
}
