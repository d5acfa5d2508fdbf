"""The agents' inbox at 100,000 messages: our keyset, index-backed queries against naive ones, same run.

    .venv/bin/python -m benchmarks.inbox [--conversations 20000] [--repeats 7] [--skip-postgres] [--no-record]

Seeds 20,000 conversations of 5 messages (100,000 messages; demo questions and FAQ answers as text, states,
flags, tags, intent labels and activity spread over 90 days) into a fresh SQLite file and a fresh PostgreSQL
database, then times, as the agent API runs them (``bot.workspace.inbox.list_conversations``, page of 50, summaries
with tags), each filter's first page and a deep page (the cursor of row 10,000, or of the last page when the
filter matches fewer), and full-text search. Baselines in the same run, checked to return the same rows:
the same query paged with OFFSET (deep pages), and search / intent filters written as a join with DISTINCT
over all matching messages. Figures are medians of ``--repeats`` runs after one warm-up. Prints one JSON
line last and records the section "Agent inbox" in benchmarks/RESULTS.md.
PostgreSQL: $HELPLINE_BENCH_POSTGRES_URL (default the tests' server); a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from benchmarks.results import record
from bot.store.db import make_engine, migrate
from bot.store.models import Agent, Conversation, ConversationTag, IntentLabel, Message
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import hash_password
from bot.workspace.inbox import InboxFilter, apply_filters, encode_cursor, list_conversations
from tests.servers import postgres_database

SECTION = "Agent inbox"
DEMO = Path(__file__).resolve().parents[1] / "demo"
POSTGRES_URL = os.environ.get(
    "HELPLINE_BENCH_POSTGRES_URL",
    os.environ.get("HELPLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
PAGE = 50
DEEP_ROW = 10_000  # where the deep page starts (or the last page, for smaller result sets)
MESSAGES_PER_CONVERSATION = 5
TAGS = ("vip", "billing", "bug", "escalated", "follow_up")
# every message row carries every column, as executemany wants
BLANK = dict.fromkeys(("in_reply_to", "intent", "confidence", "ranking", "route", "faq_id", "score", "reply_id",
                       "model_version", "latency_ms"))
SEARCHES = {"common word": "refund", "rare phrase": "basecamp stove", "no match": "zebra crossing"}


# seeding ---------------------------------------------------------------------------------------


def demo_texts() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question, intent) pairs from the demo intents and (answer, faq id) pairs from the demo FAQ."""
    with (DEMO / "intents.csv").open(newline="") as handle:
        questions = [(row["text"], row["intent"]) for row in csv.DictReader(handle)]
    answers = [(e["answer"], e["id"]) for e in map(json.loads, (DEMO / "faq.jsonl").read_text().splitlines())]
    return questions, answers


def seed(engine: Engine, conversations: int, rng: random.Random) -> dict[str, Any]:
    """Write the synthetic inbox straight into the tables (bulk inserts, a few seconds)."""
    questions, answers = demo_texts()
    now = datetime.now(UTC)
    password = hash_password("benchmark-only")
    with engine.begin() as conn:
        conn.execute(insert(Agent), [
            {"name": f"agent{i}", "display_name": f"Agent {i}", "role": "agent", "password_hash": password,
             "disabled": False, "created_at": now} for i in range(10)
        ])
    agent_ids = list(range(1, 11))
    message_id = 0
    conv_rows: list[dict[str, Any]] = []
    msg_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    label_rows: list[dict[str, Any]] = []

    def flush() -> None:
        with engine.begin() as conn:
            for table, rows in ((Conversation, conv_rows), (Message, msg_rows), (ConversationTag, tag_rows),
                                (IntentLabel, label_rows)):
                if rows:
                    conn.execute(insert(table), rows)
                    rows.clear()

    for _ in range(conversations):
        cid = uuid.uuid4().hex
        started = now - timedelta(days=90 * rng.random())
        state = rng.choices(("bot", "waiting", "agent", "closed"), (80, 3, 2, 15))[0]
        moment = started
        last = ""
        for turn in range(MESSAGES_PER_CONVERSATION):
            moment += timedelta(seconds=rng.randint(5, 120))
            message_id += 1
            if turn % 2 == 0:
                question, intent = rng.choice(questions)
                msg_rows.append({**BLANK, "id": message_id, "conversation_id": cid, "role": "customer",
                                 "text": question, "created_at": moment, "intent": intent,
                                 "confidence": rng.random()})
                if rng.random() < 0.01:
                    label_rows.append({"message_id": message_id, "intent": intent, "agent_id": 1,
                                       "created_at": moment})
                asked = message_id
                last = question
            else:
                answer, faq_id = rng.choice(answers)
                msg_rows.append({**BLANK, "id": message_id, "conversation_id": cid, "role": "bot", "text": answer,
                                 "created_at": moment, "in_reply_to": asked, "route": "faq", "faq_id": faq_id,
                                 "reply_id": uuid.uuid4().hex, "score": 0.7, "model_version": "bench",
                                 "latency_ms": 12.0, "ranking": [["x", 0.9]]})
                last = answer
        conv_rows.append({
            "id": cid, "token_hash": "x" * 64, "state": state, "created_at": started, "updated_at": moment,
            "assigned_agent_id": rng.choice(agent_ids) if state == "agent" else None, "fallback_streak": 0,
            "flagged": rng.random() < 0.15, "negative_feedback": rng.random() < 0.04,
            "last_message": last[:200], "message_count": MESSAGES_PER_CONVERSATION,
        })
        if rng.random() < 0.05:
            tag_rows.append({"conversation_id": cid, "tag": rng.choice(TAGS)})
        if len(conv_rows) >= 2000:
            flush()
    flush()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # explicit ids above: move the sequence past them
            conn.execute(text("SELECT setval('messages_id_seq', (SELECT max(id) FROM messages))"))
        conn.execute(text("ANALYZE"))
    return {"conversations": conversations, "messages": message_id}


# timing ----------------------------------------------------------------------------------------


def median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up: caches and query plans stay out of the timing
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 2)


def offset_page(store: TranscriptStore, filters: InboxFilter, offset: int) -> list[str]:
    """Baseline: the same filtered, ordered query paged with OFFSET, tags looked up row by row."""
    query = apply_filters(select(Conversation), filters).order_by(
        Conversation.updated_at.desc(), Conversation.id.desc()
    )
    with store.session() as session:
        rows = session.scalars(query.offset(offset).limit(PAGE)).all()
        for row in rows:  # the N+1 a naive summary does
            session.scalars(select(ConversationTag.tag).where(ConversationTag.conversation_id == row.id)).all()
    return [row.id for row in rows]


def join_distinct_page(store: TranscriptStore, filters: InboxFilter) -> list[str]:
    """Baseline for search and intent: join every matching message, DISTINCT, then sort and cut the page."""
    matches = select(Message.conversation_id.label("cid"))
    if filters.q:
        matches = matches.where(func.lower(Message.text).contains(filters.q.lower(), autoescape=True))
    if filters.intent:
        matches = matches.where(Message.intent == filters.intent)
    hits = matches.distinct().subquery()
    query = (
        select(Conversation.id).join(hits, hits.c.cid == Conversation.id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(PAGE)
    )
    with store.session() as session:
        return list(session.scalars(query).all())


def deep_cursor(store: TranscriptStore, filters: InboxFilter) -> tuple[str | None, int]:
    """The cursor that starts the deep page, and that page's offset."""
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(apply_filters(select(Conversation.id), filters)
                                                               .subquery())) or 0
        offset = min(DEEP_ROW, max(0, (total - 1) // PAGE * PAGE))
        if offset == 0:
            return None, 0
        row = session.execute(
            apply_filters(select(Conversation.updated_at, Conversation.id), filters)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc()).offset(offset - 1).limit(1)
        ).one()
    return encode_cursor(row[0], row[1]), offset


def measure(store: TranscriptStore, repeats: int) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    filters = {
        "all": InboxFilter(), "waiting": InboxFilter(status="waiting"),
        "mine": InboxFilter(status="mine", agent_id=1), "flagged": InboxFilter(status="flagged"),
        "negative": InboxFilter(status="negative"), "open": InboxFilter(status="open"),
        "closed": InboxFilter(status="closed"), "intent=refunds": InboxFilter(intent="refunds"),
        "tag=vip": InboxFilter(tag="vip"),
        "last 7 days": InboxFilter(since=datetime.now(UTC) - timedelta(days=7)),
    }
    for name, f in filters.items():
        first = median_ms(partial(list_conversations, store, f, PAGE), repeats)
        cursor, offset = deep_cursor(store, f)
        ours = list_conversations(store, f, PAGE, cursor)
        assert [i["id"] for i in ours.items] == offset_page(store, f, offset), name
        row = {"first_page_ms": first, "deep_offset": offset,
               "deep_keyset_ms": median_ms(partial(list_conversations, store, f, PAGE, cursor), repeats),
               "deep_offset_baseline_ms": median_ms(partial(offset_page, store, f, offset), repeats)}
        if f.intent:
            assert [i["id"] for i in list_conversations(store, f, PAGE).items] == join_distinct_page(store, f)
            row["first_page_join_baseline_ms"] = median_ms(partial(join_distinct_page, store, f), repeats)
        figures[name] = row
    for name, q in SEARCHES.items():
        f = InboxFilter(q=q)
        ours_ids = [i["id"] for i in list_conversations(store, f, PAGE).items]
        assert ours_ids == join_distinct_page(store, f), name
        figures[f"search: {name} ({q!r})"] = {
            "matches_on_page": len(ours_ids),
            "first_page_ms": median_ms(partial(list_conversations, store, f, PAGE), repeats),
            "first_page_join_baseline_ms": median_ms(partial(join_distinct_page, store, f), repeats),
        }
    return figures


# databases -------------------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'inbox.db'}"


def run_backend(url: str, conversations: int, repeats: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        migrate(engine)
        started = time.perf_counter()
        sizes = seed(engine, conversations, random.Random(0))
        sizes["seed_s"] = round(time.perf_counter() - started, 1)
        return {**sizes, "queries": measure(TranscriptStore(engine), repeats)}
    finally:
        engine.dispose()


def markdown(report: dict[str, Any], command: str) -> str:
    lines = [f"Command: `{command}`. Page of {PAGE}; medians of {report['repeats']} runs. Deep page: the "
             f"cursor of row {DEEP_ROW:,} (or the last page), against OFFSET with per-row tag lookups. Search "
             "and intent: our correlated/indexed query against a join with DISTINCT over every matching message.",
             ""]
    for backend, result in report["backends"].items():
        if "error" in result:
            lines += [f"**{backend}**: not measured ({result['error']})", ""]
            continue
        lines += [
            f"**{backend}**: {result['conversations']:,} conversations, {result['messages']:,} messages "
            f"(seeded in {result['seed_s']} s)", "",
            "| query | first page (ms) | baseline first page (ms) | deep page offset | deep page, keyset (ms) "
            "| deep page, OFFSET baseline (ms) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, row in result["queries"].items():
            lines.append(
                f"| {name} | {row['first_page_ms']} | {row.get('first_page_join_baseline_ms', '')} | "
                f"{row.get('deep_offset', '')} | {row.get('deep_keyset_ms', '')} | "
                f"{row.get('deep_offset_baseline_ms', '')} |"
            )
        lines.append("")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--conversations", type=int, default=20_000, help="5 messages each")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="print, do not write RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report: dict[str, Any] = {"repeats": args.repeats, "backends": {}}
    with sqlite_database() as url:
        report["backends"]["SQLite"] = run_backend(url, args.conversations, args.repeats)
    if not args.skip_postgres:
        try:
            with postgres_database(POSTGRES_URL) as url:
                report["backends"]["PostgreSQL"] = run_backend(url, args.conversations, args.repeats)
        except Exception as exc:  # no server: say so in the results instead of failing the whole run
            if "connect" not in str(exc).lower():
                raise
            report["backends"]["PostgreSQL"] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    if not args.no_record:
        command = "python -m benchmarks.inbox " + " ".join(sys.argv[1:] if argv is None else argv)
        record(SECTION, markdown(report, command.strip()))
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
