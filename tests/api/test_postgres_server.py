"""The same server on PostgreSQL: a conversation over the socket lands in the real database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.api.wsclient import Customer
from tests.servers import start_server, stop_server


def test_turns_are_logged_to_postgresql(demo_data_dir: Path, postgres_url: str, tmp_path: Path) -> None:
    server = start_server(demo_data_dir, postgres_url, tmp_path / "server.log")
    try:
        with Customer.open(server.ws_url) as customer:
            reply = customer.ask("How long does a refund take?")
            customer.send({"type": "feedback", "reply_id": reply.start["reply_id"], "rating": "up"})
            assert customer.receive()["type"] == "feedback.ok"
            conversation = customer.session["conversation_id"]
    finally:
        stop_server(server)
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT role, intent, route, faq_id, model_version, latency_ms FROM messages "
                 "WHERE conversation_id = :c ORDER BY id"), {"c": conversation}
        ).all()
        rating = conn.execute(text("SELECT rating FROM feedback WHERE conversation_id = :c"),
                              {"c": conversation}).scalar_one()
    engine.dispose()
    assert [r.role for r in rows] == ["customer", "bot"]
    assert rows[1].route == "faq" and rows[1].intent == "refunds" and rows[1].faq_id == reply.end["faq_id"]
    assert rows[1].model_version and rows[1].latency_ms > 0
    assert rating == "up"
