"""The files `helpline setup` needs beside the Rasa data: the company's name and fixed replies, and an FAQ.

``company.json`` takes the demo's keys, each filled from the Rasa response people usually give that job
(``utter_greet`` for greetings, ``utter_default`` for the fallback…) when the domain has one in plain text,
else Helpline's own default. Setup refuses an empty FAQ, so ``faq.jsonl`` answers each intent whose rule
replies with one plain-text response (question: the intent's first example; category: the intent), which is
also what Helpline's FAQ route serves for it until rules run; with no such intent, one entry says what the
assistant is for.
"""

from __future__ import annotations

from typing import Any

from bot.rasa.domain import Domain
from bot.rasa.rules import Rules
from bot.turn.replies import Replies

# company.json's reply keys, and the Rasa responses that usually say the same (first found wins)
REPLY_RESPONSES: dict[str, tuple[str, ...]] = {
    "greeting": ("utter_greet", "utter_greeting", "utter_hello"),
    "thanks": ("utter_youarewelcome", "utter_you_are_welcome", "utter_noworries", "utter_thanks"),
    "goodbye": ("utter_goodbye", "utter_bye"),
    "handoff": ("utter_handoff", "utter_human_handoff", "utter_transfer_to_human", "utter_connect_agent"),
    "fallback": ("utter_default", "utter_please_rephrase", "utter_fallback"),
    "low_confidence": ("utter_ask_rephrase", "utter_default_ask_rephrase"),
}
LISTS = frozenset({"greeting", "thanks", "goodbye"})  # several texts, one picked at random


def company_name(folder_name: str) -> str:
    """``acme-support_bot`` reads as ``Acme Support Bot``."""
    words = folder_name.replace("-", " ").replace("_", " ").split()
    return " ".join(word[:1].upper() + word[1:] for word in words) or "Our company"


def plain_texts(domain: Domain, name: str) -> list[str]:
    """The texts of a response's variations that need nothing filled in and suit every channel."""
    texts = []
    for variation in domain.response(name) or []:
        text = variation.get("text")
        if isinstance(text, str) and text.strip() and "{" not in text \
                and not variation.get("channel") and not variation.get("condition"):
            texts.append(text.strip())
    return texts


def company_json(name: str, domain: Domain) -> tuple[dict[str, Any], list[str]]:
    """company.json's content, and which reply came from which response (for the report)."""
    defaults = Replies()
    replies: dict[str, Any] = {}
    sources: list[str] = []
    for key, candidates in REPLY_RESPONSES.items():
        found = next(((response, texts) for response in candidates if (texts := plain_texts(domain, response))),
                     None)
        if found is not None:
            sources.append(f"company.json {key}: from {found[0]}")
            replies[key] = found[1] if key in LISTS else found[1][0]
        else:
            default = getattr(defaults, key)
            replies[key] = list(default) if key in LISTS else default
    welcome = f"Hi, I'm the {name} assistant. How can I help?"
    return {"name": name, "welcome": welcome, "replies": replies}, sources


def faq_entries(name: str, domain: Domain, rules: Rules, first_example: dict[str, str]) -> list[dict[str, Any]]:
    """One FAQ entry per intent a rule answers with a single plain-text response; a placeholder when none does."""
    entries = []
    for intent in sorted(rules.intent_actions):
        actions = rules.actions_for(intent)
        texts = plain_texts(domain, actions[0]) if len(actions) == 1 and not rules.form_for(intent) else []
        if texts and intent in first_example:
            entries.append({"id": f"rasa-{intent}", "question": first_example[intent], "answer": texts[0],
                            "category": intent})
    if not entries:  # setup refuses an empty FAQ
        entries.append({"id": "about", "question": f"What can the {name} assistant help me with?",
                        "answer": f"I'm the {name} assistant. Ask me your question, or ask for a person at any time."})
    return entries
