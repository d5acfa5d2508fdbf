/*
 * The "FAQ proposals" view. Agents propose FAQ entries for unanswered questions; customers get an entry only
 * once an admin publishes it. Admins see the entries waiting for them, edit and publish one (the bot answers
 * with it at once) or reject it with a note; agents see what became of their own proposals.
 */

import { api } from "./api.js";
import { ago, el, longTime } from "./dom.js";
import { toast } from "./toast.js";

const STATUS_LABELS = { pending: "Waiting for an admin", published: "Published", rejected: "Rejected" };

export class ProposalsView {
  constructor({ me, onError }) {
    this.isAdmin = me.role === "admin";
    this.onError = onError;
    this.loadSeq = 0;
    this.categories = [];
    this.dom = {
      intro: document.getElementById("proposals-intro"),
      list: document.getElementById("proposals-list"),
      empty: document.getElementById("proposals-empty"),
      loading: document.getElementById("proposals-loading"),
      count: document.getElementById("proposals-count"),
      refresh: document.getElementById("proposals-refresh"),
    };
    this.dom.intro.textContent = this.isAdmin
      ? "FAQ entries agents proposed for unanswered questions. Customers get one only once you publish it."
      : "The FAQ entries you proposed. An admin publishes them (the bot then answers with them) or rejects them with a note.";
    this.dom.empty.textContent = this.isAdmin ? "No proposals waiting." : "You have not proposed any FAQ entries yet.";
    this.dom.refresh.addEventListener("click", () => this.reload());
  }

  async reload() {
    const seq = ++this.loadSeq;
    this.dom.loading.hidden = false;
    try {
      const body = await api(this.isAdmin ? "/api/admin/faq-proposals" : "/api/agent/gaps/proposals");
      if (seq !== this.loadSeq) return;
      this.categories = body.categories || [];
      this.dom.list.replaceChildren(...body.items.map((p) => (this.isAdmin ? this.renderPending(p) : this.renderMine(p))));
      this.updateCount();
    } catch (err) {
      if (seq === this.loadSeq) this.onError(err);
    } finally {
      if (seq === this.loadSeq) this.dom.loading.hidden = true;
    }
  }

  /** Admins: how many proposals wait for them, on the sidebar badge. */
  async refreshCount() {
    if (!this.isAdmin) return;
    try {
      const body = await api("/api/admin/faq-proposals");
      this.showCount(body.items.length);
    } catch (_) {
      /* the badge is a hint; the page itself reports errors */
    }
  }

  updateCount() {
    const cards = this.dom.list.querySelectorAll('[data-testid="proposal"]');
    this.dom.empty.hidden = cards.length > 0;
    if (this.isAdmin) this.showCount(cards.length);
  }

  showCount(count) {
    this.dom.count.textContent = String(count);
    this.dom.count.hidden = count === 0;
    this.dom.count.setAttribute("aria-label", `${count} waiting`);
  }

  done(card) {
    card.remove();
    this.updateCount();
  }

  // ------------------------------------------------------------ an agent's own proposals

  renderMine(p) {
    const decided = p.decided_by && p.decided_at
      ? el("span", { class: "muted small", title: longTime(p.decided_at), text: `${STATUS_LABELS[p.status]} by ${p.decided_by} · ${ago(p.decided_at)}` })
      : el("span", { class: "muted small", title: longTime(p.created_at), text: "Proposed " + ago(p.created_at) });
    return el("li", { class: "gap-card proposal-card", "data-testid": "proposal", "data-id": p.id, "data-status": p.status }, [
      el("div", { class: "gap-head" }, [
        el("h3", { class: "gap-question", "data-testid": "proposal-question", text: p.question }),
        el("span", { class: "pill proposal-status proposal-status--" + p.status, "data-testid": "proposal-status", text: STATUS_LABELS[p.status] || p.status }),
      ]),
      el("p", { class: "proposal-answer", "data-testid": "proposal-answer", text: p.answer }),
      el("div", { class: "proposal-meta" }, [
        p.category ? el("span", { class: "gap-reason", text: p.category }) : null,
        el("span", { class: "muted small", text: `${p.message_ids.length} question${p.message_ids.length === 1 ? "" : "s"}` }),
        decided,
      ]),
      p.note ? el("p", { class: "proposal-note", "data-testid": "proposal-note", text: `Note from ${p.decided_by}: ${p.note}` }) : null,
    ]);
  }

  // ------------------------------------------------------------ an admin's queue

  renderPending(p) {
    const card = el("li", { class: "gap-card proposal-card", "data-testid": "proposal", "data-id": p.id, "data-status": p.status });
    const question = el("input", { class: "plain", "data-testid": "proposal-question-input", maxlength: "500", value: p.question });
    const answer = el("textarea", { "data-testid": "proposal-answer-input", rows: "3", maxlength: "5000" });
    answer.value = p.answer;
    const categories = [...new Set([...this.categories, ...(p.category ? [p.category] : [])])].sort();
    const category = el("select", { class: "plain", "data-testid": "proposal-category" }, [
      el("option", { value: "", text: "No category (any topic)" }),
      ...categories.map((name) => el("option", { value: name, text: name, selected: name === p.category })),
    ]);
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    const publish = el("button", { type: "submit", class: "button button--primary button--small", "data-testid": "proposal-publish", text: "Publish" });
    const rejecting = el("div", { class: "proposal-reject", hidden: true });
    const form = el("form", { class: "gap-form proposal-form", "aria-label": "Proposal: " + p.question }, [
      el("label", { class: "field" }, [el("span", { text: "Question" }), question]),
      el("label", { class: "field" }, [el("span", { text: "Answer" }), answer]),
      el("label", { class: "field" }, [el("span", { text: "Category" }), category]),
      el("p", { class: "muted small", text: `Answers ${p.message_ids.length} unanswered question${p.message_ids.length === 1 ? "" : "s"}. Published, the bot answers with it at once.` }),
      error,
      el("div", { class: "gap-form-buttons" }, [
        publish,
        el("button", {
          type: "button",
          class: "button button--small",
          "data-testid": "proposal-reject-open",
          text: "Reject…",
          onclick: () => {
            rejecting.hidden = false;
            rejecting.querySelector("textarea").focus();
          },
        }),
      ]),
      rejecting,
    ]);
    rejecting.append(...this.rejectControls(p, card, error, () => (rejecting.hidden = true)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!question.value.trim() || !answer.value.trim()) {
        fail(error, "Write both the question and the answer.");
        return;
      }
      publish.disabled = true;
      try {
        const body = await api(`/api/admin/faq-proposals/${p.id}/publish`, {
          method: "POST",
          body: { question: question.value.trim(), answer: answer.value.trim(), category: category.value || null },
        });
        toast(`Published “${body.entry.question}”. The bot answers it now.`);
        this.done(card);
      } catch (err) {
        fail(error, err.detail || String(err));
        publish.disabled = false;
      }
    });
    card.append(
      el("div", { class: "gap-head" }, [
        el("h3", { class: "gap-question", "data-testid": "proposal-question", text: p.question }),
        el("span", { class: "muted small", title: longTime(p.created_at), "data-testid": "proposal-by", text: `Proposed by ${p.proposed_by} · ${ago(p.created_at)}` }),
      ]),
      form,
    );
    return card;
  }

  /** Reject with an optional note for the agent: the questions go back to the Unanswered list. */
  rejectControls(p, card, error, cancel) {
    const note = el("textarea", { "data-testid": "proposal-note-input", rows: "2", maxlength: "1000", placeholder: "Why, for " + p.proposed_by + " (optional)" });
    const reject = el("button", { type: "button", class: "button button--small", "data-testid": "proposal-reject", text: "Reject proposal" });
    reject.addEventListener("click", async () => {
      reject.disabled = true;
      try {
        await api(`/api/admin/faq-proposals/${p.id}/reject`, { method: "POST", body: { note: note.value.trim() || null } });
        toast(`Rejected “${p.question}”; its questions are back under Unanswered.`);
        this.done(card);
      } catch (err) {
        fail(error, err.detail || String(err));
        reject.disabled = false;
      }
    });
    return [
      el("label", { class: "field" }, [el("span", { text: "Note for " + p.proposed_by }), note]),
      el("div", { class: "gap-form-buttons" }, [
        reject,
        el("button", { type: "button", class: "button button--ghost button--small", text: "Cancel", onclick: cancel }),
      ]),
    ];
  }
}

function fail(box, text) {
  box.textContent = text;
  box.hidden = false;
}
