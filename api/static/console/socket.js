/*
 * The agent socket (/agent/ws): live events for the inbox and the open conversation.
 * Reconnects with back-off; a refused login (close code 4401) sends the agent to the login page.
 */

import { goToLogin } from "./api.js";

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const UNAUTHORIZED = 4401;
const PING_EVERY_MS = 25000; // keeps idle proxies from dropping the connection

export class AgentSocket {
  /**
   * onEvent(frame) gets every server frame; onStatus("connecting" | "live" | "reconnecting", {resumed})
   * says how the connection stands (resumed: true after a reconnect, when events may have been missed).
   */
  constructor({ onEvent, onStatus }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.socket = null;
    this.backoff = BACKOFF_MIN_MS;
    this.everOpened = false;
    this.stopped = false;
    setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
  }

  connect() {
    const url = new URL("/agent/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    this.onStatus(this.everOpened ? "reconnecting" : "connecting", { resumed: false });
    const socket = new WebSocket(url.toString());
    this.socket = socket;
    socket.addEventListener("open", () => {
      const resumed = this.everOpened;
      this.everOpened = true;
      this.backoff = BACKOFF_MIN_MS;
      this.onStatus("live", { resumed });
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (frame && typeof frame.type === "string") this.onEvent(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      if (event.code === UNAUTHORIZED) {
        goToLogin();
        return;
      }
      this.onStatus("reconnecting", { resumed: false });
      const wait = this.backoff * (0.75 + Math.random() * 0.5);
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      setTimeout(() => this.connect(), wait);
    });
  }

  /** Send a frame if connected; live hints (typing) are simply dropped while offline. */
  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000);
  }
}
