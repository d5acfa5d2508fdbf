/*
 * The "Models" view: every trained version with its status, its figures on the evaluation set next to
 * the production model's, the promotion decision and its reasons, a link to its report, and any load
 * error (a promoted model that failed to load while the previous one kept serving).
 */

import { api } from "./api.js";
import { decimal, el, longTime, shortTime } from "./dom.js";

const REFRESH_MS = 15000;
const FIGURES = [
  ["accuracy", "Accuracy"],
  ["macro_f1", "Macro-F1"],
  ["oos_recall", "Out-of-scope recall"],
  ["oos_precision", "Out-of-scope precision"],
];

export class ModelsView {
  constructor({ onError }) {
    this.onError = onError;
    this.timer = null;
    this.loadSeq = 0;
    this.dom = {
      list: document.getElementById("models-list"),
      empty: document.getElementById("models-empty"),
      serving: document.getElementById("models-serving"),
      production: document.getElementById("models-production"),
      error: document.getElementById("models-load-error"),
      errorText: document.getElementById("models-load-error-text"),
      refresh: document.getElementById("models-refresh"),
    };
    this.dom.refresh.addEventListener("click", () => this.reload());
  }

  /** Shown: load now and keep up to date (a promotion or a load failure may happen any time). */
  show() {
    this.reload();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.reload(), REFRESH_MS);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async reload() {
    const seq = ++this.loadSeq;
    try {
      const body = await api("/api/agent/models");
      if (seq === this.loadSeq) this.render(body);
    } catch (err) {
      if (seq === this.loadSeq) this.onError(err);
    }
  }

  render(body) {
    this.dom.serving.textContent = body.serving || "–";
    this.dom.production.textContent = body.production || "–";
    this.dom.error.hidden = !body.load_error;
    this.dom.errorText.textContent = body.load_error || "";
    const versions = body.versions || [];
    this.dom.list.replaceChildren(...versions.map((row) => this.renderVersion(row)));
    this.dom.empty.hidden = versions.length > 0;
  }

  renderVersion(row) {
    const badges = [el("span", { class: "pill model-status model-status--" + row.status, "data-testid": "model-status", text: row.status })];
    if (row.serving) badges.push(el("span", { class: "pill model-status model-status--serving", "data-testid": "model-serving", text: "serving" }));
    const when = row.promoted_at ? "promoted " + shortTime(row.promoted_at) : row.created_at ? "trained " + shortTime(row.created_at) : "";
    const head = el("div", { class: "model-head" }, [
      el("h3", { class: "model-version", "data-testid": "model-version", text: row.version }),
      ...badges,
      el("span", { class: "muted small", title: row.created_at ? longTime(row.created_at) : "", text: when }),
      row.trained_from ? el("span", { class: "muted small", text: "from " + row.trained_from }) : null,
      row.report_url
        ? el("a", { class: "button button--small model-report", "data-testid": "model-report", href: row.report_url, target: "_blank", rel: "noopener", text: "Evaluation report" })
        : null,
    ]);
    const card = el("li", { class: "model-card", "data-testid": "model-row", "data-version": row.version, "data-status": row.status }, [
      head,
      this.renderFigures(row),
      this.renderDecision(row.decision),
      row.load_error
        ? el("p", { class: "form-error", "data-testid": "model-load-error", role: "alert" }, [
            "Failed to load" + (row.load_error_at ? " (" + shortTime(row.load_error_at) + ")" : "") + ": ",
            el("code", { text: row.load_error }),
          ])
        : null,
    ]);
    return card;
  }

  /** The candidate's figures on the evaluation set and the production model's on the same set. */
  renderFigures(row) {
    const metrics = row.metrics || {};
    const baseline = row.baseline_metrics || {};
    const shown = FIGURES.filter(([key]) => typeof metrics[key] === "number");
    if (!shown.length) return el("p", { class: "muted small", text: "No evaluation recorded." });
    const table = el("table", { class: "model-figures", "data-testid": "model-figures" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: "" }), el("th", { text: "This model" }), el("th", { text: "Production then" }), el("th", { text: "Change" })])]),
    ]);
    const body = el("tbody");
    for (const [key, label] of shown) {
      const base = typeof baseline[key] === "number" ? baseline[key] : null;
      const change = base === null ? null : metrics[key] - base;
      body.append(
        el("tr", { "data-metric": key }, [
          el("th", { scope: "row", text: label }),
          el("td", { "data-testid": "metric-" + key, text: decimal(metrics[key], 3) }),
          el("td", { text: base === null ? "–" : decimal(base, 3) }),
          el("td", {
            class: change === null ? "" : change < 0 ? "delta delta--down" : "delta delta--up",
            text: change === null ? "–" : (change >= 0 ? "+" : "") + change.toFixed(3),
          }),
        ]),
      );
    }
    table.append(body);
    return table;
  }

  renderDecision(decision) {
    if (!decision) return null;
    const verdict = decision.promote ? (decision.forced ? "Promoted by hand (forced)" : "Promoted") : "Refused";
    const reasons = el("ul", { class: "model-reasons", "data-testid": "model-reasons" });
    for (const reason of decision.reasons || []) reasons.append(el("li", { text: reason }));
    return el("div", { class: "model-decision", "data-testid": "model-decision", "data-promote": String(Boolean(decision.promote)) }, [
      el("strong", { text: verdict }),
      reasons,
    ]);
  }
}
