"""Small FAQ files the retrieval tests write to a temp folder."""

from __future__ import annotations

import json
from pathlib import Path

SHOP_FAQ = [
    {"id": "pay-methods", "question": "Which payment methods do you accept?",
     "answer": "We accept Visa, Mastercard and PayPal.", "category": "payments"},
    {"id": "pay-invoice", "question": "Can I pay by invoice?",
     "answer": "Business customers can pay by invoice within 30 days.", "category": "payments"},
    {"id": "pay-refund", "question": "When will I get my refund?",
     "answer": "Refunds reach your card within 5 working days.", "category": "payments"},
    {"id": "ship-abroad", "question": "Do you ship abroad?",
     "answer": "We deliver to every EU country and to Norway.", "category": "shipping"},
    {"id": "ship-time", "question": "How long does delivery take?",
     "answer": "Parcels arrive in 2 to 4 working days.", "category": "shipping"},
    {"id": "account-password", "question": "How do I reset my password?",
     "answer": "Click 'Forgot password' on the sign-in page and follow the email.", "category": "account"},
    {"id": "account-delete", "question": "How can I delete my account?",
     "answer": "Write to privacy@example.com and we delete it within a week.", "category": "account"},
    {"id": "opening-hours", "question": "When is customer service open?",
     "answer": "Our support team answers Monday to Friday, 9:00 to 17:00."},
]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_two_question_eval(folder: Path) -> tuple[Path, Path]:
    """A two-entry FAQ and two labelled queries that a working retriever gets right."""
    faq = folder / "faq.jsonl"
    faq.write_text(
        '{"id": "ship", "question": "Do you ship to Norway?", "answer": "Yes, in 3-5 days."}\n'
        '{"id": "pay", "question": "Which payment methods do you accept?", "answer": "Cards and PayPal."}\n'
    )
    queries = folder / "q.jsonl"
    queries.write_text(
        '{"query": "can I pay with paypal", "gold_faq_ids": ["pay"]}\n'
        '{"query": "delivery to norway?", "gold_faq_ids": ["ship"]}\n'
    )
    return faq, queries


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to compare before and after."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
