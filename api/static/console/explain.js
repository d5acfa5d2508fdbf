/*
 * Why the bot answered as it did, under each bot message: the intent and its confidence, the next two
 * intents, the route, the FAQ entry and its score, the model version and the latency; with the
 * customer's rating and the agent's good/bad review.
 */

import { decimal, el, icon, percent } from "./dom.js";

const ROUTES = {
  faq: "FAQ answer",
  smalltalk: "Small talk",
  fallback: "Fallback",
  handoff: "Handoff to a person",
  action: "Custom action",
};
const LOW_CONFIDENCE = 0.5; // the server's default HELPLINE_LOW_CONFIDENCE, for colouring only

/** Whether a bot message carries a decision to explain (welcomes and notices do not). */
export function explains(message) {
  return message.role === "bot" && Boolean(message.intent || message.route);
}

/** The explanation card of one bot message; onReview(verdict) marks the reply good or bad. */
export function explanation(m, { onReview }) {
  const grid = el("dl", { class: "explain-grid" });
  for (const [label, value] of rows(m)) grid.append(el("dt", { text: label }), value);
  return el("div", { class: "explain", "data-testid": "explanation" }, [grid, footer(m, onReview)]);
}

function rows(m) {
  const ranking = Array.isArray(m.ranking) ? m.ranking : [];
  const next = ranking.slice(1, 3);
  const low = m.confidence !== null && m.confidence !== undefined && m.confidence < LOW_CONFIDENCE;
  const confidence = el("span", { class: "confidence", "data-low": String(low) }, [
    el("span", { class: "confidence-bar", "aria-hidden": "true" }, [barFill(m.confidence)]),
    el("span", { class: "confidence-value", "data-testid": "explain-confidence", text: percent(m.confidence) }),
  ]);
  const result = [
    ["Intent", el("dd", { "data-testid": "explain-intent" }, [el("strong", { text: m.intent || "–" }), " ", confidence])],
    [
      "Next",
      el("dd", {
        class: "next-intents",
        "data-testid": "explain-next",
        text: next.length ? next.map(([label, p]) => label + " " + percent(p)).join(" · ") : "–",
      }),
    ],
    [
      "Route",
      el("dd", { class: "route", "data-route": m.route || "", "data-testid": "explain-route", text: ROUTES[m.route] || m.route || "–" }),
    ],
  ];
  if (m.faq_id || (m.score !== null && m.score !== undefined)) {
    const faq = el("dd", { "data-testid": "explain-faq" });
    if (m.faq_question) faq.append(el("span", { class: "faq-question", text: "“" + m.faq_question + "”" }), " ");
    if (m.faq_id) faq.append(el("code", { class: "muted", text: m.faq_id }), " ");
    faq.append(el("span", { class: "muted", "data-testid": "explain-score", text: "score " + decimal(m.score) }));
    result.push(["FAQ entry", faq]);
  }
  result.push(["Model", el("dd", { class: "mono", "data-testid": "explain-model", text: m.model_version || "–" })]);
  const latency = m.latency_ms === null || m.latency_ms === undefined ? "–" : Math.round(m.latency_ms) + " ms";
  result.push(["Latency", el("dd", { "data-testid": "explain-latency", text: latency })]);
  return result;
}

function footer(m, onReview) {
  const foot = el("div", { class: "explain-foot" });
  if (m.rating) {
    foot.append(
      el("span", { class: "rating", "data-rating": m.rating, "data-testid": "customer-rating" }, [
        icon(m.rating === "down" ? "down" : "up"),
        m.rating === "down" ? "Customer: not helpful" : "Customer: helpful",
      ]),
    );
  }
  foot.append(el("span", { class: "spacer" }), el("span", { class: "muted small", text: "Your review" }));
  for (const verdict of ["good", "bad"]) {
    foot.append(
      el(
        "button",
        {
          type: "button",
          class: "review",
          "data-verdict": verdict,
          "data-testid": "review-" + verdict,
          "aria-pressed": String(m.review === verdict),
          onclick: () => onReview(verdict),
        },
        [icon(verdict === "good" ? "up" : "down"), verdict === "good" ? "Good" : "Bad"],
      ),
    );
  }
  return foot;
}

function barFill(value) {
  const fill = el("i");
  fill.style.width = Math.max(0, Math.min(1, Number(value) || 0)) * 100 + "%";
  return fill;
}
