/*
 * Helpline customer chat widget.
 *
 * Embed with one tag:  <script src="https://HOST/static/widget.js" defer></script>
 * Optional attributes: data-server="https://HOST" (defaults to where this script came from),
 *                      data-title="Company name", data-open="true" (open the panel on load).
 * Theming: set --hl-accent (any CSS colour) on #helpline-widget from the host page.
 *
 * Plain JavaScript, no build step, no requests beyond the Helpline server. The UI lives in a
 * Shadow DOM so the host page's CSS cannot reach it. Customer, bot and agent text is only ever set
 * through textContent.
 *
 * Live handoff: the server says who answers ("state" frames: bot, waiting, agent, closed). While a
 * person handles the chat the bot is silent, the customer's messages are acknowledged with
 * "message.received", and the agent's messages and typing arrive as "agent.message" and "typing".
 *
 * Custom actions: one customer message may get several replies, each its own bubble, in order. A reply's
 * buttons send their payload (e.g. "/affirm") while the customer's bubble shows the button's title; an
 * http(s) image shows in the bubble; a custom payload is offered to the host page as a "helpline:custom"
 * event on the #helpline-widget element (it bubbles to document and window). The event's detail holds
 * reply_id, custom, text, resumed (true when it comes from the history) and container, an empty element
 * under the bubble the page may fill; a listener that renders it calls preventDefault(), else the
 * container is removed and the bubble shows its text alone.
 */
(function () {
  "use strict";

  if (window.HelplineWidget) return; // the tag was included twice

  const SCRIPT = document.currentScript || findOwnScript();
  const CONFIG = readConfig(SCRIPT);
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const PING_EVERY_MS = 25000;
  const PONG_TIMEOUT_MS = 10000;
  const ERROR_SHOWN_MS = 6000;
  const TYPING_EVERY_MS = 2000; // at most one "typing: true" this often while the customer types
  const TYPING_IDLE_MS = 5000; // no keystroke this long: tell the agent the customer stopped
  const AGENT_TYPING_SHOWN_MS = 15000; // hide the agent's indicator if their "stopped" never comes

  const SUBTITLE_BOT = "We usually answer right away";

  const ERROR_TEXT = {
    text_too_long: "Message too long, please shorten it.",
    empty_text: "Please type a message first.",
    bad_json: "That message could not be sent.",
    unknown_type: "That message could not be sent.",
    binary_frame: "That message could not be sent.",
    bad_field: "That request could not be handled.",
    unknown_reply: "That rating could not be saved.",
    unavailable: "The assistant is starting up, trying again shortly…",
    internal: "Sorry, something went wrong. Please try again.",
    too_many_connections: "Too many chats from your network, trying again shortly…",
    too_many_conversations: "Too many new chats from your network, trying again shortly…",
    origin_not_allowed: "This chat is not enabled on this site.",
    erased: "This conversation was deleted. A new one has started.",
  };
  // Errors that end the oldest message on its way, with what its bubble then says.
  const MESSAGE_FAILURES = {
    text_too_long: "Not sent: too long",
    empty_text: "Not sent",
    internal: "Not answered, please try again",
  };

  // ---------------------------------------------------------------- configuration

  function findOwnScript() {
    const scripts = document.querySelectorAll("script[src]");
    for (const s of scripts) if (/\/widget\.js(\?|#|$)/.test(s.src)) return s;
    return null;
  }

  function readConfig(script) {
    const data = (script && script.dataset) || {};
    return {
      base: serverBase(script),
      title: (data.title || "").trim() || "Customer support",
      openOnLoad: data.open === "true",
    };
  }

  /** Server base URL: data-server, else the script's own URL minus "/static/<file>". */
  function serverBase(script) {
    const explicit = script && script.dataset.server;
    if (explicit) return explicit.trim().replace(/\/+$/, "");
    if (!script || !script.src) return location.origin;
    const src = new URL(script.src, location.href);
    const match = /^(.*)\/static\/[^/]+$/.exec(src.pathname);
    return src.origin + (match ? match[1] : "");
  }

  function socketUrl() {
    const url = new URL(CONFIG.base + "/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  /** The socket's first frame: go on with the stored conversation (its token never goes in a URL), or start. */
  function openingFrame(session) {
    if (!session) return { type: "start" };
    return { type: "resume", conversation_id: session.conversation_id, token: session.token };
  }

  function newId() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  // ---------------------------------------------------------------- storage

  // Storage can throw (disabled cookies, private modes): fall back to memory for this page.
  const memory = {};
  function storageGet(area, key) {
    try {
      return window[area].getItem(key);
    } catch (_) {
      return memory[area + key] ?? null;
    }
  }
  function storageSet(area, key, value) {
    try {
      if (value === null) window[area].removeItem(key);
      else window[area].setItem(key, value);
    } catch (_) {
      memory[area + key] = value;
    }
  }

  const SESSION_KEY = "helpline:session:" + CONFIG.base;
  const OPEN_KEY = "helpline:open:" + CONFIG.base;

  function loadSession() {
    try {
      const stored = JSON.parse(storageGet("localStorage", SESSION_KEY) || "null");
      if (stored && typeof stored.conversation_id === "string" && typeof stored.token === "string") {
        return stored;
      }
    } catch (_) {
      /* corrupt entry: start afresh */
    }
    return null;
  }
  function saveSession(conversationId, token) {
    storageSet("localStorage", SESSION_KEY, JSON.stringify({ conversation_id: conversationId, token }));
  }
  function dropSession() {
    storageSet("localStorage", SESSION_KEY, null);
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M4 12l16-8-6 16-2.5-6.5L4 12z",
    up: "M7 11v9H4v-9h3zm2 9h8.2a2 2 0 0 0 2-1.6l1.3-6.4A2 2 0 0 0 18.5 10H14V6a2 2 0 0 0-2-2l-3 7v9z",
    down: "M17 13V4h3v9h-3zm-2-9H6.8a2 2 0 0 0-2 1.6L3.5 12a2 2 0 0 0 2 2.4H10v4a2 2 0 0 0 2 2l3-7V4z",
  };

  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "hl-icon hl-icon--" + name);
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  // ---------------------------------------------------------------- styles

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.hl-root {
  --hl-accent-color: var(--hl-accent, #1f5f4a);
  --hl-ink: #1c2430; --hl-muted: #64707d; --hl-line: #e3e7ec; --hl-soft: #f3f5f7;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--hl-ink); -webkit-font-smoothing: antialiased;
}
button { font: inherit; color: inherit; cursor: pointer; }
.hl-icon { width: 20px; height: 20px; fill: currentColor; }
.hl-icon--close { fill: none; stroke: currentColor; stroke-width: 2.2; stroke-linecap: round; }
.hl-launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 58px; height: 58px; border-radius: 50%; border: 0; padding: 0;
  display: grid; place-items: center; color: #fff; background: var(--hl-accent-color);
  box-shadow: 0 6px 20px rgba(16, 24, 40, .25); transition: transform .15s ease;
}
.hl-launcher:hover { transform: scale(1.06); }
.hl-launcher .hl-icon { width: 26px; height: 26px; }
.hl-launcher:focus-visible, .hl-root button:focus-visible {
  outline: 3px solid color-mix(in srgb, var(--hl-accent-color) 45%, white); outline-offset: 2px;
}
.hl-unread {
  position: absolute; top: 4px; right: 4px; width: 12px; height: 12px; border-radius: 50%;
  background: #e5484d; border: 2px solid #fff;
}
.hl-panel {
  position: fixed; right: 20px; bottom: 92px; z-index: 2147483000;
  width: 380px; height: min(620px, calc(100vh - 120px)); max-height: calc(100vh - 120px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 16px; border: 1px solid var(--hl-line);
  box-shadow: 0 18px 50px rgba(16, 24, 40, .22); animation: hl-rise .18s ease-out;
}
@keyframes hl-rise { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }
.hl-header {
  display: flex; align-items: center; gap: 12px; padding: 14px 14px 14px 18px;
  color: #fff; background: var(--hl-accent-color);
}
.hl-avatar {
  width: 38px; height: 38px; border-radius: 50%; flex: none; display: grid; place-items: center;
  background: rgba(255, 255, 255, .18);
}
.hl-heading { flex: 1; min-width: 0; }
.hl-title { margin: 0; font-size: 16px; font-weight: 650; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.hl-subtitle { margin: 0; font-size: 12.5px; opacity: .85; }
.hl-close {
  width: 36px; height: 36px; border: 0; border-radius: 50%; flex: none;
  display: grid; place-items: center; background: transparent; color: #fff;
}
.hl-close:hover { background: rgba(255, 255, 255, .16); }
.hl-status {
  padding: 6px 16px; font-size: 12.5px; text-align: center; color: #7a4b00; background: #fff4d6;
  border-bottom: 1px solid #f5e3b0;
}
.hl-log {
  flex: 1; overflow-y: auto; padding: 16px 14px 8px; background: var(--hl-soft);
  display: flex; flex-direction: column; gap: 10px; overscroll-behavior: contain;
}
.hl-msg { display: flex; flex-direction: column; max-width: 86%; }
.hl-msg[data-role="customer"] { align-self: flex-end; align-items: flex-end; }
.hl-msg[data-role="bot"] { align-self: flex-start; align-items: flex-start; }
.hl-bubble {
  padding: 9px 13px; border-radius: 16px; white-space: pre-wrap; overflow-wrap: anywhere;
  word-break: break-word;
}
.hl-msg[data-role="customer"] .hl-bubble {
  color: #fff; background: var(--hl-accent-color); border-bottom-right-radius: 5px;
}
.hl-msg[data-role="bot"] .hl-bubble {
  background: #fff; border: 1px solid var(--hl-line); border-bottom-left-radius: 5px;
}
.hl-msg[data-role="agent"] { align-self: flex-start; align-items: flex-start; }
.hl-msg[data-role="agent"] .hl-bubble {
  color: var(--hl-ink); background: color-mix(in srgb, var(--hl-accent-color) 10%, white);
  border: 1px solid color-mix(in srgb, var(--hl-accent-color) 30%, white); border-bottom-left-radius: 5px;
}
.hl-author {
  display: flex; align-items: center; gap: 6px; margin: 0 0 3px 2px;
  font-size: 12px; font-weight: 600; color: var(--hl-accent-color);
}
.hl-initial {
  width: 20px; height: 20px; border-radius: 50%; flex: none; display: grid; place-items: center;
  font-size: 11px; font-weight: 700; color: #fff; background: var(--hl-accent-color);
}
.hl-system {
  align-self: center; max-width: 90%; padding: 3px 12px; border-radius: 999px; text-align: center;
  font-size: 12.5px; color: var(--hl-muted); background: #e9edf1;
}
.hl-banner {
  display: flex; align-items: center; justify-content: center; gap: 8px; padding: 8px 16px;
  font-size: 13px; color: var(--hl-accent-color);
  background: color-mix(in srgb, var(--hl-accent-color) 9%, white);
  border-bottom: 1px solid color-mix(in srgb, var(--hl-accent-color) 22%, white);
}
.hl-spinner {
  width: 12px; height: 12px; border-radius: 50%; flex: none; animation: hl-spin .9s linear infinite;
  border: 2px solid color-mix(in srgb, var(--hl-accent-color) 25%, white); border-top-color: var(--hl-accent-color);
}
@keyframes hl-spin { to { transform: rotate(360deg); } }
.hl-agent-typing {
  align-self: flex-start; display: flex; align-items: center; gap: 8px; font-size: 12.5px; color: var(--hl-muted);
}
.hl-agent-typing .hl-dots {
  display: flex; gap: 3px; padding: 8px 10px; border-radius: 12px;
  background: color-mix(in srgb, var(--hl-accent-color) 10%, white);
}
.hl-agent-typing .hl-dot { width: 5px; height: 5px; }
.hl-msg[data-state="queued"] .hl-bubble, .hl-msg[data-state="sent"] .hl-bubble { opacity: .75; }
.hl-msg[data-state="failed"] .hl-bubble { background: #b42318; max-height: 110px; overflow: hidden; }
.hl-note { margin-top: 3px; font-size: 11.5px; color: var(--hl-muted); }
.hl-msg[data-state="failed"] .hl-note { color: #b42318; }
.hl-image {
  display: block; max-width: 100%; max-height: 260px; margin-top: 6px; border-radius: 10px; object-fit: contain;
}
.hl-image--alone { margin-top: 0; }
.hl-buttons { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.hl-button {
  padding: 6px 12px; border-radius: 10px; font-size: 13.5px; text-align: left;
  color: #fff; background: var(--hl-accent-color); border: 1px solid var(--hl-accent-color);
}
.hl-button:hover:not(:disabled) { background: color-mix(in srgb, var(--hl-accent-color) 85%, black); }
.hl-button:disabled { cursor: default; opacity: .45; }
.hl-button[aria-pressed="true"]:disabled { opacity: .8; }
.hl-custom:empty { display: none; }
.hl-suggestions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.hl-suggestion {
  padding: 6px 11px; border-radius: 999px; font-size: 13.5px; text-align: left;
  background: #fff; color: var(--hl-accent-color); border: 1px solid var(--hl-accent-color);
}
.hl-suggestion:hover { background: color-mix(in srgb, var(--hl-accent-color) 8%, white); }
.hl-feedback { display: flex; gap: 4px; margin-top: 4px; }
.hl-thumb {
  width: 28px; height: 26px; border-radius: 8px; display: grid; place-items: center;
  border: 1px solid transparent; background: transparent; color: #9aa4ae;
}
.hl-thumb .hl-icon { width: 16px; height: 16px; }
.hl-thumb:hover { color: var(--hl-ink); background: #e9edf1; }
.hl-thumb[aria-pressed="true"] {
  color: var(--hl-accent-color); background: #fff; border-color: var(--hl-line);
}
.hl-typing {
  align-self: flex-start; display: flex; gap: 4px; padding: 12px 14px;
  background: #fff; border: 1px solid var(--hl-line); border-radius: 16px; border-bottom-left-radius: 5px;
}
.hl-dot {
  width: 7px; height: 7px; border-radius: 50%; background: #a3acb6; animation: hl-blink 1.2s infinite ease-in-out;
}
.hl-dot:nth-of-type(2) { animation-delay: .15s; }
.hl-dot:nth-of-type(3) { animation-delay: .3s; }
.hl-sr {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
@keyframes hl-blink { 0%, 80%, 100% { opacity: .3; transform: none; } 40% { opacity: 1; transform: translateY(-3px); } }
.hl-error {
  margin: 0 12px 8px; padding: 8px 12px; border-radius: 10px; font-size: 13px;
  color: #912018; background: #fef3f2; border: 1px solid #fecdca;
}
.hl-composer {
  display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px;
  border-top: 1px solid var(--hl-line); background: #fff;
}
.hl-input {
  flex: 1; resize: none; min-height: 40px; max-height: 120px; padding: 9px 12px;
  font: inherit; color: inherit; background: var(--hl-soft);
  border: 1px solid var(--hl-line); border-radius: 12px; outline: none;
}
.hl-input:focus {
  border-color: var(--hl-accent-color); background: #fff;
  box-shadow: 0 0 0 3px color-mix(in srgb, var(--hl-accent-color) 18%, transparent);
}
.hl-send {
  width: 40px; height: 40px; flex: none; border: 0; border-radius: 12px;
  display: grid; place-items: center; color: #fff; background: var(--hl-accent-color);
}
.hl-send:disabled { opacity: .45; cursor: default; }
.hl-footer { padding: 0 0 8px; font-size: 11px; text-align: center; color: var(--hl-muted); background: #fff; }
@media (max-width: 480px) {
  .hl-panel {
    inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; border: 0;
  }
  .hl-root[data-open="true"] .hl-launcher { display: none; }
  .hl-input { font-size: 16px; } /* stops iOS zooming into the field */
}
@media (prefers-reduced-motion: reduce) {
  .hl-panel, .hl-dot, .hl-spinner { animation: none; }
  .hl-launcher { transition: none; }
}
`;

  // ---------------------------------------------------------------- UI

  // A custom element name, so host-page rules for div, section, etc. never match the host.
  const host = el("helpline-widget", { id: "helpline-widget", "data-testid": "helpline-root" });
  const shadow = host.attachShadow({ mode: "open" });

  const ui = buildUi();
  shadow.append(el("style", { text: CSS }), ui.root);

  function buildUi() {
    const unread = el("span", { class: "hl-unread", "data-testid": "helpline-unread", hidden: true });
    const launcher = el(
      "button",
      {
        class: "hl-launcher",
        type: "button",
        "aria-label": "Open chat",
        "aria-expanded": "false",
        "aria-controls": "hl-panel",
        "data-testid": "helpline-launcher",
        onclick: () => (state.open ? closePanel() : openPanel()),
      },
      [icon("chat"), unread],
    );
    const status = el("div", {
      class: "hl-status",
      role: "status",
      "data-testid": "helpline-status",
      "data-state": "idle",
      hidden: true,
    });
    const typing = el("div", { class: "hl-typing", "data-testid": "helpline-typing", hidden: true }, [
      el("span", { class: "hl-sr", text: "The assistant is typing" }),
      el("i", { class: "hl-dot" }),
      el("i", { class: "hl-dot" }),
      el("i", { class: "hl-dot" }),
    ]);
    const agentTypingText = el("span", { "data-testid": "helpline-agent-typing-text" });
    const agentTyping = el(
      "div",
      { class: "hl-agent-typing", "data-testid": "helpline-agent-typing", hidden: true },
      [el("span", { class: "hl-dots", "aria-hidden": "true" }, [
        el("i", { class: "hl-dot" }),
        el("i", { class: "hl-dot" }),
        el("i", { class: "hl-dot" }),
      ]), agentTypingText],
    );
    const log = el(
      "div",
      { class: "hl-log", role: "log", "aria-live": "polite", "data-testid": "helpline-messages" },
      [typing, agentTyping],
    );
    const banner = el(
      "div",
      { class: "hl-banner", role: "status", "data-testid": "helpline-handoff-banner", hidden: true },
      [el("span", { class: "hl-spinner", "aria-hidden": "true" }), el("span", { text: "Waiting for an agent…" })],
    );
    const error = el("div", { class: "hl-error", role: "alert", "data-testid": "helpline-error", hidden: true });
    const input = el("textarea", {
      class: "hl-input",
      rows: "1",
      placeholder: "Type your question…",
      "aria-label": "Message",
      "data-testid": "helpline-input",
      onkeydown: onInputKey,
      oninput: onInputChange,
    });
    const send = el(
      "button",
      { class: "hl-send", type: "submit", "aria-label": "Send", "data-testid": "helpline-send", disabled: true },
      [icon("send")],
    );
    const composer = el("form", { class: "hl-composer", onsubmit: onSubmit }, [input, send]);
    const close = el(
      "button",
      {
        class: "hl-close",
        type: "button",
        "aria-label": "Close chat",
        "data-testid": "helpline-close",
        onclick: () => closePanel(),
      },
      [icon("close")],
    );
    const subtitle = el("p", { class: "hl-subtitle", "data-testid": "helpline-subtitle", text: SUBTITLE_BOT });
    const header = el("header", { class: "hl-header" }, [
      el("div", { class: "hl-avatar" }, [icon("chat")]),
      el("div", { class: "hl-heading" }, [
        el("h2", { class: "hl-title", id: "hl-title", text: CONFIG.title }),
        subtitle,
      ]),
      close,
    ]);
    const panel = el(
      "section",
      {
        id: "hl-panel",
        class: "hl-panel",
        role: "dialog",
        "aria-labelledby": "hl-title",
        "data-testid": "helpline-panel",
        hidden: true,
        onkeydown: (event) => {
          if (event.key === "Escape") closePanel();
        },
      },
      [header, status, banner, log, error, composer, el("div", { class: "hl-footer", text: "Powered by Helpline" })],
    );
    const root = el("div", { class: "hl-root", "data-open": "false" }, [panel, launcher]);
    return {
      root, launcher, unread, panel, subtitle, status, banner, log, typing, agentTyping, agentTypingText, error,
      input, send,
    };
  }

  // ---------------------------------------------------------------- state

  const state = {
    open: false,
    socket: null, // the live WebSocket, or null
    ready: false, // a session frame arrived on the current socket
    generation: 0, // bumps with every socket; tells which socket a message went out on
    backoff: BACKOFF_MIN_MS,
    reconnectTimer: null,
    pingTimer: null,
    pongDeadline: null,
    tokenRejected: false,
    retryTimer: null,
    restarting: false,
    connectedOnce: false,
    welcome: null, // welcome text of the current conversation
    pending: [], // customer messages not yet answered: {id, text, node, sentOn, state}
    replies: new Map(), // replies still streaming: reply_id -> {node, bubble, chunks, waiting}
    // The last node shown for a customer message (it, then each reply): a custom action's next reply goes after it.
    lastOfTurn: new Map(), // client message id -> node
    feedbackOut: new Map(), // reply_id -> rating not yet sent
    errorTimer: null,
    // Who answers: "bot", "waiting" (for a person), "agent" or "closed"; null from a server without handoff.
    handoff: null,
    agent: null, // display name of the agent holding the conversation
    agentTypingTimer: null,
    typingSentAt: 0, // when the last "typing: true" went out on this socket (0: none since it stopped)
    typingIdleTimer: null,
  };

  // ---------------------------------------------------------------- panel

  function openPanel() {
    if (state.open) return;
    setOpen(true);
    ui.unread.hidden = true;
    ensureConnected();
    scrollToEnd(true);
    ui.input.focus();
  }

  function closePanel() {
    if (!state.open) return;
    const focusWasInside = shadow.activeElement !== null;
    setOpen(false);
    if (focusWasInside) ui.launcher.focus();
  }

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.root.dataset.open = String(open);
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    ui.launcher.replaceChildren(icon(open ? "close" : "chat"), ui.unread);
    storageSet("sessionStorage", OPEN_KEY, open ? "1" : null);
  }

  // ---------------------------------------------------------------- composer

  function onInputKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitInput();
    }
  }

  function onInputChange() {
    ui.send.disabled = ui.input.value.trim() === "";
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
    if (ui.input.value.trim() === "") stopTyping();
    else noteTyping();
  }

  /** The customer typed: tell the server, at most once every TYPING_EVERY_MS, and stop after a pause. */
  function noteTyping() {
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
    if (Date.now() - state.typingSentAt < TYPING_EVERY_MS) return;
    if (sendTyping(true)) state.typingSentAt = Date.now();
  }

  /** The input was emptied, its message sent, or the customer paused: say so once, if we said "typing". */
  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = null;
    if (!state.typingSentAt) return;
    state.typingSentAt = 0;
    sendTyping(false);
  }

  function sendTyping(active) {
    // Only a server that speaks handoff (its session frame has a state) knows this frame.
    if (!state.ready || state.handoff === null) return false;
    return sendFrame({ type: "typing", active });
  }

  function onSubmit(event) {
    event.preventDefault();
    submitInput();
  }

  function submitInput() {
    if (sendMessage(ui.input.value)) {
      ui.input.value = "";
      onInputChange(); // the input is empty now: "typing: false" follows the message
    }
    ui.input.focus();
  }

  // ---------------------------------------------------------------- rendering

  function isNearEnd() {
    const log = ui.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollToEnd(force) {
    if (force || isNearEnd()) ui.log.scrollTop = ui.log.scrollHeight;
  }

  /** Put a message node in the log: after `after` when given, else at the end (before the typing dots). */
  function place(node, after) {
    const stick = isNearEnd();
    if (after && after.parentNode === ui.log) after.after(node);
    else ui.log.insertBefore(node, ui.typing);
    scrollToEnd(stick);
  }

  function customerNode(text, messageState) {
    const node = el("div", { class: "hl-msg", "data-testid": "helpline-message", "data-role": "customer" }, [
      el("div", { class: "hl-bubble", "data-testid": "helpline-message-text", text }),
      el("div", { class: "hl-note", hidden: true }),
    ]);
    setCustomerState(node, messageState);
    return node;
  }

  function setCustomerState(node, messageState, failure) {
    node.dataset.state = messageState;
    const note = node.querySelector(".hl-note");
    const text = { queued: "Waiting for connection…", failed: failure || "Not sent" }[messageState] || "";
    note.textContent = text;
    note.hidden = !text;
  }

  function botNode(text, replyId) {
    const bubble = el("div", { class: "hl-bubble", "data-testid": "helpline-message-text", text });
    const node = el("div", { class: "hl-msg", "data-testid": "helpline-message", "data-role": "bot" }, [bubble]);
    if (replyId) node.dataset.replyId = replyId;
    return { node, bubble };
  }

  function agentNode(text, name) {
    const who = typeof name === "string" && name.trim() ? name.trim() : "Agent";
    return el(
      "div",
      { class: "hl-msg", "data-testid": "helpline-message", "data-role": "agent", "data-agent": who },
      [
        el("div", { class: "hl-author" }, [
          el("span", { class: "hl-initial", "aria-hidden": "true", text: who.charAt(0).toUpperCase() }),
          el("span", { "data-testid": "helpline-message-author", text: who }),
        ]),
        el("div", { class: "hl-bubble", "data-testid": "helpline-message-text", text }),
      ],
    );
  }

  /** A notice about the conversation itself ("Maya joined"), not a message from anyone. */
  function systemNode(text) {
    return el("div", { class: "hl-system", "data-testid": "helpline-system", "data-role": "system", text });
  }

  /** A reply complete: its image, buttons and suggestions, and the thumbs when it can be rated. */
  function finishBot(node, replyId, suggestions, rating, data) {
    node.dataset.state = "done";
    const extras = data || {};
    const image = imageUrl(extras.image);
    if (image) {
      const bubble = node.querySelector(".hl-bubble");
      const alt = (typeof extras.text === "string" && extras.text.trim()) || "image";
      const alone = bubble.textContent === "";
      bubble.append(el("img", {
        class: alone ? "hl-image hl-image--alone" : "hl-image",
        src: image, alt, loading: "lazy", referrerpolicy: "no-referrer", "data-testid": "helpline-image",
      }));
    }
    const buttons = (Array.isArray(extras.buttons) ? extras.buttons : []).filter(
      (b) => b && typeof b.title === "string" && b.title.trim(),
    );
    if (buttons.length) {
      const group = el("div", { class: "hl-buttons", role: "group", "data-testid": "helpline-buttons" });
      for (const b of buttons) {
        const title = b.title.trim();
        // As in Rasa, a button without a payload says its title.
        const payload = typeof b.payload === "string" && b.payload.trim() ? b.payload.trim() : title;
        group.append(el("button", {
          class: "hl-button", type: "button", "aria-pressed": "false", "data-testid": "helpline-button",
          "data-title": title, "data-payload": payload, text: title,
          onclick: (event) => pressButton(group, event.currentTarget),
        }));
      }
      node.append(group);
    }
    // Where the host page may render a custom payload (offerCustom asks it once the node is in the log).
    if (extras.custom !== undefined && extras.custom !== null) {
      node.append(el("div", { class: "hl-custom", "data-testid": "helpline-custom" }));
    }
    const texts = (Array.isArray(suggestions) ? suggestions : []).filter(
      (s) => typeof s === "string" && s.trim(),
    );
    if (texts.length) {
      node.append(
        el(
          "div",
          { class: "hl-suggestions", "data-testid": "helpline-suggestions" },
          texts.map((text) =>
            el("button", {
              class: "hl-suggestion",
              type: "button",
              "data-testid": "helpline-suggestion",
              text,
              onclick: () => sendMessage(text),
            }),
          ),
        ),
      );
    }
    if (replyId) {
      const thumb = (rating_, label) =>
        el(
          "button",
          {
            class: "hl-thumb",
            type: "button",
            "aria-label": label,
            "aria-pressed": "false",
            "data-testid": "helpline-thumb-" + rating_,
            "data-rating": rating_,
            onclick: () => rate(replyId, rating_, node),
          },
          [icon(rating_)],
        );
      node.append(el("div", { class: "hl-feedback" }, [thumb("up", "Helpful"), thumb("down", "Not helpful")]));
      if (rating === "up" || rating === "down") showRating(node, rating, "saved");
    }
  }

  /** An image URL to show: absolute http(s) only, so a payload cannot point the browser elsewhere. */
  function imageUrl(value) {
    if (typeof value !== "string" || !value.trim()) return null;
    try {
      const url = new URL(value.trim());
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  /** A button pressed: its payload goes to the server, its title into the customer's bubble; the group is used. */
  function pressButton(group, button) {
    if (button.disabled) return;
    markPressed(group, button);
    sendMessage(button.dataset.payload, button.dataset.title);
  }

  function markPressed(group, button) {
    for (const b of group.querySelectorAll(".hl-button")) {
      b.disabled = true;
      b.setAttribute("aria-pressed", String(b === button));
    }
    group.dataset.pressed = button.dataset.title;
  }

  /** In the history, the button of `group` whose payload the customer's next message was, marked pressed. */
  function pressedButton(group, text) {
    const button = [...group.querySelectorAll(".hl-button")].find((b) => b.dataset.payload === text);
    if (button) markPressed(group, button);
    return button || null;
  }

  /**
   * Offer a reply's custom payload to the host page as a cancelable "helpline:custom" event. A listener that
   * shows it calls preventDefault() (and may fill detail.container); otherwise nothing is added to the bubble.
   */
  function offerCustom(node, replyId, data, resumed) {
    const container = node.querySelector(".hl-custom");
    if (!container) return;
    const event = new CustomEvent("helpline:custom", {
      bubbles: true,
      composed: true,
      cancelable: true,
      detail: {
        reply_id: replyId,
        custom: data.custom,
        text: typeof data.text === "string" ? data.text : "",
        resumed,
        container,
      },
    });
    host.dispatchEvent(event); // a listener's error is reported by the browser, not thrown here
    if (event.defaultPrevented) node.dataset.custom = "shown";
    else container.remove();
  }

  function showRating(node, rating, saveState) {
    node.dataset.rating = rating;
    node.dataset.feedback = saveState;
    for (const button of node.querySelectorAll(".hl-thumb")) {
      button.setAttribute("aria-pressed", String(button.dataset.rating === rating));
    }
  }

  function updateTyping() {
    // While a person handles the chat the bot stays silent: no dots for a reply that will not come.
    const botAnswers = state.handoff !== "waiting" && state.handoff !== "agent";
    const waitingForServer = botAnswers && state.ready && state.pending.some((m) => m.state === "sent");
    const waitingForText = [...state.replies.values()].some((r) => r.waiting);
    const show = waitingForServer || waitingForText;
    // Screen readers wait for the whole reply rather than reading out every chunk.
    ui.log.setAttribute("aria-busy", String(state.replies.size > 0));
    if (ui.typing.hidden === show) {
      ui.typing.hidden = !show;
      if (show) scrollToEnd(false);
    }
  }

  function setStatus(name) {
    const texts = { connecting: "Connecting…", reconnecting: "Reconnecting…" };
    ui.status.dataset.state = name;
    ui.status.textContent = texts[name] || "";
    ui.status.hidden = !texts[name];
  }

  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = false;
    clearTimeout(state.errorTimer);
    state.errorTimer = setTimeout(() => (ui.error.hidden = true), ERROR_SHOWN_MS);
  }

  /** Rebuild the log from the server's view of the conversation, then the messages still on their way. */
  function renderConversation(welcome, history) {
    for (const node of [...ui.log.children]) if (node !== ui.typing && node !== ui.agentTyping) node.remove();
    state.replies.clear();
    state.lastOfTurn.clear();
    let offered = null; // buttons shown since the customer last spoke: a press came back as its payload
    if (welcome) {
      const { node } = botNode(welcome, null);
      node.dataset.welcome = "true";
      node.dataset.state = "done";
      place(node);
    }
    for (const item of history) {
      if (!item || typeof item.text !== "string") continue;
      if (item.role === "customer") {
        const pressed = offered && pressedButton(offered, item.text);
        place(customerNode(pressed ? pressed.dataset.title : item.text, "delivered"));
        offered = null;
      } else if (item.role === "agent") {
        const node = agentNode(item.text, item.agent);
        if (typeof item.message_id === "number") node.dataset.messageId = String(item.message_id);
        place(node);
      } else if (item.role === "system") {
        place(systemNode(item.text));
      } else {
        const replyId = typeof item.reply_id === "string" ? item.reply_id : null;
        const { node } = botNode(item.text, replyId);
        finishBot(node, replyId, item.suggestions, item.rating, item);
        place(node);
        offerCustom(node, replyId, item, true);
        offered = node.querySelector(".hl-buttons") || offered;
      }
    }
    for (const message of state.pending) {
      // A button pressed while offline: its message is on its way, so its buttons stay used.
      if (offered && pressedButton(offered, message.text)) offered = null;
      place(message.node);
    }
    scrollToEnd(true);
  }

  // ---------------------------------------------------------------- sending

  /** Queue `rawText` for the server; the customer's bubble shows `shown` instead when given (a button's title). */
  function sendMessage(rawText, shown) {
    const text = String(rawText ?? "").trim();
    if (!text) return false;
    const label = typeof shown === "string" && shown.trim() ? shown.trim() : text;
    const message = { id: newId(), text, node: customerNode(label, "queued"), sentOn: null, state: "queued" };
    state.pending.push(message);
    place(message.node);
    scrollToEnd(true);
    ensureConnected();
    flush();
    return true;
  }

  function rate(replyId, rating, node) {
    showRating(node, rating, "sending");
    state.feedbackOut.set(replyId, rating);
    ensureConnected();
    flush();
  }

  function setMessageState(message, messageState, failure) {
    message.state = messageState;
    setCustomerState(message.node, messageState, failure);
  }

  /** Send everything waiting, once the server has confirmed the session. */
  function flush() {
    if (!state.ready) {
      updateTyping();
      return;
    }
    for (const message of state.pending) {
      if (message.sentOn === state.generation) continue;
      if (!sendFrame({ type: "message", text: message.text, id: message.id })) break;
      message.sentOn = state.generation;
      setMessageState(message, "sent");
    }
    for (const [replyId, rating] of state.feedbackOut) {
      if (!sendFrame({ type: "feedback", reply_id: replyId, rating })) break;
      state.feedbackOut.delete(replyId);
    }
    updateTyping();
  }

  function sendFrame(frame) {
    const socket = state.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  // ---------------------------------------------------------------- connection

  function ensureConnected() {
    if (state.socket || state.reconnectTimer) return;
    connect();
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    const session = loadSession();
    let socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch (_) {
      setStatus("reconnecting");
      scheduleReconnect();
      return;
    }
    state.socket = socket;
    state.ready = false;
    state.generation += 1;
    state.tokenRejected = false;
    setStatus(state.connectedOnce ? "reconnecting" : "connecting");
    socket.addEventListener("open", () => {
      if (socket === state.socket) socket.send(JSON.stringify(openingFrame(session)));
    });
    socket.addEventListener("message", (event) => {
      if (socket === state.socket) onFrame(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket === state.socket) onClose(event, Boolean(session));
    });
  }

  function onClose(event, hadSession) {
    state.socket = null;
    state.ready = false;
    stopPing();
    for (const reply of state.replies.values()) reply.waiting = false;
    for (const message of state.pending) if (message.state === "sent") setMessageState(message, "queued");
    showAgentTyping(null);
    updateTyping();
    if (event.code === 1012 || state.restarting) {
      // The server is stopping (a restart or a scale-down): go on with the conversation on another one now.
      state.restarting = false;
      state.backoff = BACKOFF_MIN_MS;
    }
    if ((event.code === 4401 || state.tokenRejected) && hadSession) {
      // The server no longer knows this conversation: forget it and start a fresh one right away.
      dropSession();
      connect();
      return;
    }
    setStatus("reconnecting");
    scheduleReconnect();
  }

  /** Treat a socket as lost at once, without waiting for a close handshake that may never come. */
  function abandon(socket) {
    if (!socket || socket !== state.socket) return;
    onClose({ code: 4000 }, false);
    socket.close(4000, "ping timeout");
  }

  function scheduleReconnect() {
    if (state.reconnectTimer) return;
    const delay = state.backoff * (0.8 + Math.random() * 0.4); // jitter spreads a server restart's load
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  /** Skip the rest of the backoff wait when the browser says the network or the tab is back. */
  function reconnectNow() {
    if (state.reconnectTimer) connect();
  }

  function startPing() {
    stopPing();
    state.pingTimer = setInterval(() => {
      if (!sendFrame({ type: "ping" })) return;
      if (state.pongDeadline === null) {
        // No answer at all: the connection died without telling us, so give up on it now.
        state.pongDeadline = setTimeout(() => abandon(state.socket), PONG_TIMEOUT_MS);
      }
    }, PING_EVERY_MS);
  }

  function stopPing() {
    clearInterval(state.pingTimer);
    clearTimeout(state.pongDeadline);
    state.pingTimer = null;
    state.pongDeadline = null;
  }

  // ---------------------------------------------------------------- incoming frames

  function onFrame(data) {
    // Any frame proves the connection is alive.
    clearTimeout(state.pongDeadline);
    state.pongDeadline = null;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    const handler = HANDLERS[frame.type];
    if (handler) handler(frame);
  }

  const HANDLERS = {
    session: onSession,
    "reply.start": onReplyStart,
    "reply.delta": onReplyDelta,
    "reply.end": onReplyEnd,
    "feedback.ok": onFeedbackOk,
    state: onState,
    "agent.message": onAgentMessage,
    typing: onTyping,
    "message.received": onMessageReceived,
    error: onError,
    reconnect: () => {
      state.restarting = true; // the close that follows is a restart, not a failure
    },
    pong: () => {},
  };

  function onSession(frame) {
    const resumed = frame.resumed === true;
    if (typeof frame.conversation_id === "string" && typeof frame.token === "string") {
      saveSession(frame.conversation_id, frame.token);
    }
    const history = resumed && Array.isArray(frame.history) ? frame.history : [];
    if (!resumed) {
      // A new conversation: nothing sent on an earlier socket can be in it.
      for (const message of state.pending) message.sentOn = null;
    } else {
      settleInFlight(history);
    }
    state.welcome = typeof frame.welcome === "string" && frame.welcome.trim() ? frame.welcome : null;
    state.typingSentAt = 0; // a new socket: the server has heard no "typing" on it yet
    showAgentTyping(null);
    // The history already holds the notices of any change while we were away: show the state, say nothing.
    setHandoff(typeof frame.state === "string" ? frame.state : null, frame.agent);
    renderConversation(state.welcome, history);
    state.ready = true;
    state.connectedOnce = true;
    state.backoff = BACKOFF_MIN_MS;
    setStatus("open");
    startPing();
    flush();
  }

  /**
   * Messages sent on a socket that dropped before their reply began: the server may or may not
   * have stored them. Those already at the end of the history are done; the rest go out again.
   */
  function settleInFlight(history) {
    const inFlight = state.pending.filter((m) => m.sentOn !== null);
    if (!inFlight.length) return;
    const recent = history
      .filter((item) => item && item.role === "customer")
      .slice(-inFlight.length)
      .map((item) => item.text);
    for (const message of inFlight) {
      const at = recent.indexOf(message.text);
      if (at === -1) {
        message.sentOn = null;
        continue;
      }
      recent.splice(at, 1);
      state.pending.splice(state.pending.indexOf(message), 1);
    }
  }

  function onReplyStart(frame) {
    if (typeof frame.reply_id !== "string") return;
    // The first reply goes after its message, each further one (a custom action may say several things) after
    // the one before.
    let after = state.lastOfTurn.get(frame.in_reply_to) || null;
    const index = state.pending.findIndex((m) => m.id === frame.in_reply_to);
    if (index !== -1) {
      const [message] = state.pending.splice(index, 1);
      setMessageState(message, "delivered");
      after = message.node;
    }
    const { node, bubble } = botNode("", frame.reply_id);
    node.hidden = true; // the typing dots stand in until the first words arrive
    node.dataset.state = "streaming";
    node.dataset.chunks = "0";
    if (typeof frame.route === "string") node.dataset.route = frame.route;
    if (typeof frame.intent === "string") node.dataset.intent = frame.intent;
    if (typeof frame.action === "string") node.dataset.action = frame.action;
    place(node, after);
    if (typeof frame.in_reply_to === "string") rememberTurn(frame.in_reply_to, node);
    state.replies.set(frame.reply_id, { node, bubble, chunks: 0, waiting: true });
    updateTyping();
  }

  function rememberTurn(messageId, node) {
    state.lastOfTurn.delete(messageId); // re-inserted last: the oldest entry is the first key
    state.lastOfTurn.set(messageId, node);
    if (state.lastOfTurn.size > 20) state.lastOfTurn.delete(state.lastOfTurn.keys().next().value);
  }

  function replyFor(replyId) {
    if (typeof replyId !== "string") return null;
    let reply = state.replies.get(replyId);
    if (!reply) {
      // Its start went out on a socket we lost; show it anyway.
      const { node, bubble } = botNode("", replyId);
      node.dataset.state = "streaming";
      node.dataset.chunks = "0";
      place(node);
      reply = { node, bubble, chunks: 0, waiting: false };
      state.replies.set(replyId, reply);
    }
    return reply;
  }

  function onReplyDelta(frame) {
    const reply = replyFor(frame.reply_id);
    if (!reply || typeof frame.text !== "string") return;
    const stick = isNearEnd();
    reply.bubble.append(document.createTextNode(frame.text));
    reply.chunks += 1;
    reply.node.dataset.chunks = String(reply.chunks);
    reply.node.hidden = false;
    reply.waiting = false;
    updateTyping();
    scrollToEnd(stick);
  }

  function onReplyEnd(frame) {
    const reply = replyFor(frame.reply_id);
    if (!reply) return;
    const stick = isNearEnd();
    if (typeof frame.text === "string") reply.bubble.textContent = frame.text;
    reply.node.hidden = false;
    reply.waiting = false;
    if (typeof frame.faq_id === "string") reply.node.dataset.faqId = frame.faq_id;
    finishBot(reply.node, frame.reply_id, frame.suggestions, null, frame);
    offerCustom(reply.node, frame.reply_id, frame, false);
    state.replies.delete(frame.reply_id);
    if (!state.open) ui.unread.hidden = false;
    updateTyping();
    scrollToEnd(stick);
  }

  // ---------------------------------------------------------------- handoff

  const HANDOFF_STATES = ["bot", "waiting", "agent", "closed"];

  /** Show who answers now: the waiting banner, the header line, and what the composer invites. */
  function setHandoff(handoff, agent) {
    state.handoff = HANDOFF_STATES.includes(handoff) ? handoff : null;
    state.agent = typeof agent === "string" && agent.trim() ? agent.trim() : null;
    ui.root.dataset.handoff = state.handoff || "bot";
    ui.banner.hidden = state.handoff !== "waiting";
    ui.subtitle.textContent =
      state.handoff === "waiting"
        ? "Connecting you with a person"
        : state.handoff === "agent"
          ? "You're chatting with " + (state.agent || "an agent")
          : SUBTITLE_BOT;
    ui.input.placeholder = state.handoff === "agent" || state.handoff === "waiting"
      ? "Type your message…"
      : "Type your question…";
    if (state.handoff !== "agent") showAgentTyping(null);
    updateTyping();
  }

  function onState(frame) {
    if (!HANDOFF_STATES.includes(frame.state)) return;
    const before = state.handoff;
    const agentBefore = state.agent;
    setHandoff(frame.state, frame.agent);
    const notice = handoffNotice(before, agentBefore);
    if (notice) {
      place(systemNode(notice));
      if (!state.open) ui.unread.hidden = false;
    }
  }

  /** The line a change of state puts in the log, if any: the same words the server stores. */
  function handoffNotice(before, agentBefore) {
    const now = state.handoff;
    if (now === "agent" && (before !== "agent" || state.agent !== agentBefore)) {
      return (state.agent || "An agent") + " joined";
    }
    if (now === "bot" && (before === "agent" || before === "waiting")) return "You're back with the bot";
    if (now === "closed" && before !== "closed") return "This conversation was closed";
    return null;
  }

  function onAgentMessage(frame) {
    if (typeof frame.text !== "string") return;
    const id = typeof frame.message_id === "number" ? String(frame.message_id) : null;
    if (id && ui.log.querySelector(`.hl-msg[data-role="agent"][data-message-id="${id}"]`)) return; // seen
    const node = agentNode(frame.text, frame.agent);
    if (id) node.dataset.messageId = id;
    showAgentTyping(null);
    place(node);
    if (!state.open) ui.unread.hidden = false;
  }

  function onTyping(frame) {
    if (frame.role !== "agent") return;
    showAgentTyping(frame.active === true ? (frame.agent ?? "") : null);
  }

  /** "Maya is typing…" for `name` (any string; the agent in charge when empty), or hide it with null. */
  function showAgentTyping(name) {
    clearTimeout(state.agentTypingTimer);
    state.agentTypingTimer = null;
    const show = name !== null && name !== undefined;
    if (show) {
      const who = typeof name === "string" && name.trim() ? name.trim() : state.agent || "The agent";
      ui.agentTypingText.textContent = who + " is typing…";
      state.agentTypingTimer = setTimeout(() => showAgentTyping(null), AGENT_TYPING_SHOWN_MS);
    }
    if (ui.agentTyping.hidden === show) {
      const stick = isNearEnd();
      ui.agentTyping.hidden = !show;
      scrollToEnd(stick);
    }
  }

  /** A message stored for the person handling the chat: delivered, and no bot reply will follow. */
  function onMessageReceived(frame) {
    const message =
      state.pending.find((m) => m.id === frame.in_reply_to) || state.pending.find((m) => m.state === "sent");
    if (message) {
      state.pending.splice(state.pending.indexOf(message), 1);
      setMessageState(message, "delivered");
    }
    updateTyping();
  }

  function onFeedbackOk(frame) {
    for (const node of ui.log.querySelectorAll(".hl-msg[data-role='bot']")) {
      if (node.dataset.replyId === frame.reply_id) node.dataset.feedback = "saved";
    }
  }

  function onError(frame) {
    const code = typeof frame.code === "string" ? frame.code : "";
    if (code === "invalid_token" || code === "token_expired") {
      state.tokenRejected = true; // the close (4401) that follows starts a fresh conversation
      return;
    }
    if (code === "rate_limited") {
      retryLater(frame);
      return;
    }
    if (MESSAGE_FAILURES[code]) {
      // The error names the message it concerns; older servers answer in order, so else the oldest sent.
      const message =
        state.pending.find((m) => m.id === frame.in_reply_to) || state.pending.find((m) => m.state === "sent");
      if (message) {
        state.pending.splice(state.pending.indexOf(message), 1);
        setMessageState(message, "failed", MESSAGE_FAILURES[code]);
        if (code === "text_too_long" && ui.input.value === "") {
          ui.input.value = message.text; // give it back to shorten
          onInputChange();
        }
      }
    }
    showError(ERROR_TEXT[code] || (typeof frame.message === "string" && frame.message) || "Something went wrong.");
    updateTyping();
  }

  /** A frame the server took too early: the message it names goes out again once the server says it may. */
  function retryLater(frame) {
    const message = state.pending.find((m) => m.id === frame.in_reply_to);
    if (!message) return;
    message.sentOn = null;
    setMessageState(message, "queued");
    const seconds = typeof frame.retry_after === "number" && frame.retry_after > 0 ? frame.retry_after : 1;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(flush, Math.min(seconds, 60) * 1000);
  }

  // ---------------------------------------------------------------- start

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  function start() {
    document.body.append(host);
    const wasOpen = storageGet("sessionStorage", OPEN_KEY) === "1";
    if (CONFIG.openOnLoad || wasOpen) {
      setOpen(true);
      ensureConnected();
    } else if (loadSession()) {
      ensureConnected(); // resume now so the earlier conversation is there when the panel opens
    }
  }

  window.HelplineWidget = {
    open: openPanel,
    close: closePanel,
    /** Send a message as if the customer had typed it. */
    send: (text) => {
      openPanel();
      return sendMessage(text);
    },
  };

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
