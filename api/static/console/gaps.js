/*
 * The "Unanswered" view: customer questions the bot could not answer (fallbacks, answers rated down,
 * handoffs), grouped by meaning, largest group first. An admin turns a group into a new FAQ entry (answered
 * at once); an agent proposes one, which an admin publishes (see proposals.js). Anyone labels a group as an
 * intent (trained at the next retrain).
 */

import { api } from "./api.js";
import { ago, el, icon, longTime } from "./dom.js";
import { intentEditor } from "./labels.js";
import { toast } from "./toast.js";

const REASONS = { fallback: "Fallback", negative_feedback: "Rated down", handoff: "Handoff" };

export class GapsView {
  /** intents() gives the known intent names; onIntentAdded(name) is told of a new one; onProposed() of a proposal. */
  constructor({ me, intents, onIntentAdded, onProposed, onError }) {
    this.isAdmin = me.role === "admin";
    this.onProposed = onProposed;
    this.intents = intents;
    this.onIntentAdded = onIntentAdded;
    this.onError = onError;
    this.categories = [];
    this.loadSeq = 0;
    this.dom = {
      list: document.getElementById("gaps-list"),
      empty: document.getElementById("gaps-empty"),
      loading: document.getElementById("gaps-loading"),
      count: document.getElementById("gaps-count"),
      refresh: document.getElementById("gaps-refresh"),
    };
    this.dom.refresh.prepend(icon("refresh"));
    this.dom.refresh.addEventListener("click", () => this.reload());
  }

  async reload() {
    const seq = ++this.loadSeq;
    this.dom.loading.hidden = false;
    this.dom.empty.hidden = true;
    try {
      const body = await api("/api/agent/gaps");
      if (seq !== this.loadSeq) return;
      this.categories = body.categories || [];
      this.dom.list.replaceChildren(...body.clusters.map((cluster) => this.renderCluster(cluster)));
      this.updateCount();
    } catch (err) {
      if (seq === this.loadSeq) this.onError(err);
    } finally {
      if (seq === this.loadSeq) this.dom.loading.hidden = true;
    }
  }

  updateCount() {
    const cards = this.dom.list.querySelectorAll('[data-testid="gap-cluster"]');
    const questions = [...cards].reduce((sum, card) => sum + Number(card.dataset.size), 0);
    this.dom.empty.hidden = cards.length > 0;
    this.dom.count.textContent = cards.length
      ? `${questions} question${questions === 1 ? "" : "s"} in ${cards.length} group${cards.length === 1 ? "" : "s"}`
      : "";
  }

  /** The cluster is handled: its card goes. */
  done(card) {
    card.remove();
    this.updateCount();
  }

  // ------------------------------------------------------------ rendering

  renderCluster(cluster) {
    const examples = el("ul", { class: "gap-examples" });
    for (const example of cluster.examples) {
      examples.append(
        el("li", { class: "gap-example", "data-testid": "gap-example", "data-message-id": example.message_id }, [
          el("span", { class: "gap-text", text: example.text }),
          example.count > 1 ? el("span", { class: "gap-times", title: "Asked this many times", text: "×" + example.count }) : null,
          el("span", { class: "gap-reason gap-reason--" + example.reason, text: REASONS[example.reason] || example.reason }),
          el("time", { class: "muted small", datetime: example.created_at, title: longTime(example.created_at), text: ago(example.created_at) }),
        ]),
      );
    }
    const more = cluster.size - cluster.examples.reduce((sum, e) => sum + (e.count || 1), 0);
    const forms = el("div", { class: "gap-forms" });
    const card = el("li", { class: "gap-card", "data-testid": "gap-cluster", "data-id": cluster.id, "data-size": cluster.size });
    const actions = el("div", { class: "gap-actions" }, [
      el("button", {
        type: "button",
        class: "button button--primary button--small",
        "data-testid": "gap-faq-open",
        text: this.isAdmin ? "Add FAQ entry" : "Propose FAQ entry",
        onclick: () => this.openForm(forms, this.faqForm(cluster, card, () => forms.replaceChildren())),
      }),
      el("button", {
        type: "button",
        class: "button button--small",
        "data-testid": "gap-intent-open",
        text: "Label as intent",
        onclick: () => this.openForm(forms, this.intentForm(cluster, card, () => forms.replaceChildren())),
      }),
    ]);
    card.append(
      el("div", { class: "gap-head" }, [
        el("span", { class: "gap-size", "data-testid": "gap-size", title: "Questions in this group", text: String(cluster.size) }),
        el("h3", { class: "gap-question", "data-testid": "gap-question", text: cluster.centroid_question }),
        actions,
      ]),
      examples,
    );
    if (more > 0) card.append(el("p", { class: "muted small gap-more", text: `and ${more} more like these` }));
    card.append(forms);
    return card;
  }

  openForm(box, form) {
    box.replaceChildren(form);
    form.focusFirst();
  }

  /** The new FAQ entry: question (the group's most typical wording), answer, category. */
  faqForm(cluster, card, close) {
    const question = el("input", {
      class: "plain",
      "data-testid": "gap-faq-question",
      "aria-label": "Question",
      maxlength: "500",
      value: cluster.centroid_question,
    });
    const answer = el("textarea", {
      "data-testid": "gap-faq-answer",
      "aria-label": "Answer",
      rows: "3",
      maxlength: "5000",
      placeholder: "The answer customers will get, in plain text",
    });
    const category = el("select", { class: "plain", "data-testid": "gap-faq-category", "aria-label": "Category" }, [
      el("option", { value: "", text: "No category (any topic)" }),
      ...this.categories.map((name) => el("option", { value: name, text: name })),
    ]);
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    const save = el("button", { type: "submit", class: "button button--primary button--small", "data-testid": "gap-faq-save", text: this.isAdmin ? "Add to FAQ" : "Propose" });
    const questions = `${cluster.size} question${cluster.size === 1 ? "" : "s"}`;
    const form = el("form", { class: "gap-form", "data-testid": "gap-faq-form" }, [
      el("label", { class: "field" }, [el("span", { text: "Question" }), question]),
      el("label", { class: "field" }, [el("span", { text: "Answer" }), answer]),
      el("label", { class: "field" }, [el("span", { text: "Category" }), category]),
      el("p", {
        class: "muted small",
        text: this.isAdmin
          ? `The ${questions} above leave this list; the bot answers with the entry at once.`
          : `An admin reviews the entry before customers get it; the ${questions} above wait with it.`,
      }),
      error,
      el("div", { class: "gap-form-buttons" }, [
        save,
        el("button", { type: "button", class: "button button--ghost button--small", "data-testid": "gap-cancel", text: "Cancel", onclick: close }),
      ]),
    ]);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!question.value.trim() || !answer.value.trim()) {
        fail(error, "Write both the question and the answer.");
        return;
      }
      save.disabled = true;
      try {
        const body = await api("/api/agent/gaps/faq", {
          method: "POST",
          body: {
            question: question.value.trim(),
            answer: answer.value.trim(),
            category: category.value || null,
            message_ids: cluster.message_ids,
          },
        });
        if (body.entry) {
          toast(`Added to the FAQ: “${body.entry.question}”. The bot answers it now.`);
        } else {
          // an agent's entry is a proposal: customers get it once an admin publishes it
          toast(`Proposed “${body.question}”. An admin will publish it; follow it under FAQ proposals.`);
          this.onProposed();
        }
        this.done(card);
      } catch (err) {
        fail(error, err.detail || String(err));
        save.disabled = false;
      }
    });
    form.focusFirst = () => answer.focus();
    return form;
  }

  /** Label every question of the group with an intent (a known one or a new one). */
  intentForm(cluster, card, close) {
    const form = intentEditor({
      intents: this.intents(),
      current: null,
      close,
      save: async (intent) => {
        const body = await api("/api/agent/gaps/intent", { method: "POST", body: { intent, message_ids: cluster.message_ids } });
        if (!this.intents().includes(intent)) this.onIntentAdded(intent);
        toast(`${body.labelled} question${body.labelled === 1 ? "" : "s"} labelled ${intent}; they train at the next retrain.`);
        this.done(card);
      },
    });
    form.classList.add("gap-intent-form");
    return form;
  }
}

function fail(box, text) {
  box.textContent = text;
  box.hidden = false;
}
