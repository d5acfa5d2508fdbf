"""Faults under real load: what customers sent against what ended up stored, on this version and an older one.

    .venv/bin/python -m benchmarks.faults [--baseline-ref REF] [--customers 5] [--outage-s 15] [--no-record]

Each scenario runs against a private PostgreSQL (and Redis) that it stops and starts itself, with chatting
customers on real sockets:

- **database outage**: customers chat; PostgreSQL is stopped for ``--outage-s`` (as a crash stops it), a new
  customer arrives during it, then it comes back;
- **SIGTERM**: every customer sends a burst of messages at once, and the server is told to stop;
- **SIGKILL**: the same burst, and the server is killed mid-stream, then started again over the same database
  and journal;
- **Redis outage**: two replicas share Redis, which is stopped for ``--outage-s`` while customers chat.

For each, on this tree and on ``--baseline-ref`` (default: the last commit before the hardening work, exported
with ``git archive`` and served with the same venv): messages sent, acknowledged (a reply began, or
``message.received``), answered in full, error frames, sockets the server closed, messages stored once the
faults are over, acknowledged messages lost, and whether the new customer got any frame. The older version
speaks the older socket protocol (the session frame on connect): the client waits a second for one, and sends
``start`` when none comes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from benchmarks.e2e.servers import ROOT, Server, copy_data_dir, prepared_source, start_helpline
from benchmarks.results import record
from tests.services import PrivatePostgres, PrivateRedis

OLD_PROTOCOL_WAIT_S = 1.0  # an older server's session frame comes at once; this one waits for the client's
BASELINE_REF = "7a47dd4"  # main before the hardening work (limits, journal, drain)
QUESTIONS = ["How long does a refund take?", "Do you ship to Norway?", "Can I pay with PayPal?",
             "How do I reset my password?", "Is there a warranty on tents?", "Where is my parcel?"]


@dataclass
class Tally:
    """One customer's view of a run."""

    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)
    answered: int = 0
    errors: int = 0
    closed_by_server: int = 0
    conversations: list[str] = field(default_factory=list)
    got_any_frame: bool = False


class Chatter:
    """A customer on a real socket who asks a question, waits for its answer (or an error), and goes on."""

    def __init__(self, ws_url: str, tally: Tally) -> None:
        self.ws_url, self.tally = ws_url, tally
        self.ws: ClientConnection | None = None

    def connect(self) -> None:
        """Open a conversation in either protocol: the older server sends its session frame at once, this one
        waits for ``start``."""
        self.ws = connect(self.ws_url, open_timeout=15)
        try:
            frame = json.loads(self.ws.recv(timeout=OLD_PROTOCOL_WAIT_S))
        except TimeoutError:
            self.ws.send(json.dumps({"type": "start"}))
            frame = json.loads(self.ws.recv(timeout=15))
        self.tally.got_any_frame = True
        if frame.get("type") != "session":
            raise ConnectionError(frame.get("code"))
        self.tally.conversations.append(frame["conversation_id"])

    def ask(self, question: str, timeout: float = 30) -> None:
        """Send one message and read until it is answered, refused, or the socket closes."""
        if self.ws is None:
            self.connect()
        assert self.ws is not None
        self.tally.sent += 1
        self.ws.send(json.dumps({"type": "message", "text": question, "id": f"m{self.tally.sent}"}))
        try:
            while True:
                frame = json.loads(self.ws.recv(timeout=timeout))
                kind = frame.get("type")
                if kind in ("reply.start", "message.received") and frame.get("in_reply_to") == f"m{self.tally.sent}":
                    self.tally.acknowledged.append(question)
                    if kind == "message.received":
                        return
                elif kind == "reply.end":
                    self.tally.answered += 1
                    return
                elif kind == "error":
                    self.tally.errors += 1
                    return
        except (ConnectionClosed, TimeoutError):
            self.tally.closed_by_server += 1
            self.ws = None

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


def chat_until(ws_url: str, stop: threading.Event, tally: Tally, pause: float = 0.3) -> None:
    chatter, n = Chatter(ws_url, tally), 0
    while not stop.is_set():
        try:
            chatter.ask(QUESTIONS[n % len(QUESTIONS)])
        except (OSError, ConnectionError, ConnectionClosed, TimeoutError):
            tally.closed_by_server += 1
            chatter.ws = None
            stop.wait(1.0)
        n += 1
        stop.wait(pause)
    chatter.close()


def stored(database_url: str, conversations: Sequence[str]) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT text FROM messages WHERE role = 'customer' AND conversation_id "
                                           "= ANY(:ids) ORDER BY id"), {"ids": list(conversations)})
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def wait_healthy(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"{url}/health", timeout=5).json()
            if body.get("status") == "ok" and not body.get("journal"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)


def summary(tallies: Sequence[Tally], database_url: str, newcomer: Tally | None = None) -> dict[str, object]:
    conversations = [c for t in tallies for c in t.conversations]
    kept = stored(database_url, conversations)
    acknowledged = [q for t in tallies for q in t.acknowledged]
    lost = sum(max(0, acknowledged.count(q) - kept.count(q)) for q in set(acknowledged))
    return {"sent": sum(t.sent for t in tallies), "acknowledged": len(acknowledged),
            "answered": sum(t.answered for t in tallies), "errors": sum(t.errors for t in tallies),
            "closed by server": sum(t.closed_by_server for t in tallies), "stored": len(kept), "lost": lost,
            "newcomer got a frame": "—" if newcomer is None else ("yes" if newcomer.got_any_frame else "no")}


def outage(server: Server, customers: int, outage_s: float, stop_service: Callable[[], None],
           start_service: Callable[[], None]) -> tuple[list[Tally], Tally]:
    """Customers chat; a service stops for ``outage_s`` (a new customer arrives a third of the way in), then
    comes back and the chat goes on as long again. Each customer's tally, and the newcomer's."""
    stop, tallies, newcomer = threading.Event(), [Tally() for _ in range(customers)], Tally()
    threads = [threading.Thread(target=chat_until, args=(server.ws_url, stop, t)) for t in tallies]
    for thread in threads:
        thread.start()
    time.sleep(outage_s)
    stop_service()
    time.sleep(outage_s / 3)
    late = threading.Thread(target=lambda: _one_question(server.ws_url, newcomer))
    late.start()
    time.sleep(outage_s * 2 / 3)
    start_service()
    time.sleep(outage_s)
    stop.set()
    for thread in [*threads, late]:
        thread.join(60)
    return tallies, newcomer


def database_outage(code: Path, source: Path, work: Path, customers: int, outage_s: float) -> dict[str, object]:
    postgres = PrivatePostgres.create()
    server = start_helpline(copy_data_dir(source, work / "data"), postgres.url, work / "server.log", code,
                            HELPLINE_JOURNAL_PATH=str(work / "journal.db"), HELPLINE_STREAM_DELAY_MS="0")
    try:
        tallies, newcomer = outage(server, customers, outage_s, postgres.stop, postgres.start)
        wait_healthy(_http(server))
        return summary([*tallies, newcomer], postgres.url, newcomer)
    finally:
        server.stop()
        postgres.remove()


def _one_question(ws_url: str, tally: Tally) -> None:
    chatter = Chatter(ws_url, tally)
    try:
        chatter.ask(QUESTIONS[0])
    except (OSError, ConnectionError, ConnectionClosed, TimeoutError):
        tally.closed_by_server += 1
    chatter.close()


def _http(server: Server) -> str:
    return server.ws_url.replace("ws://", "http://").removesuffix("/ws")


def sigterm(code: Path, source: Path, work: Path, customers: int, burst: int = 8) -> dict[str, object]:
    postgres = PrivatePostgres.create()
    server = start_helpline(copy_data_dir(source, work / "data"), postgres.url, work / "server.log", code,
                            HELPLINE_STREAM_DELAY_MS="60")
    tallies = [Tally() for _ in range(customers)]
    chatters = [Chatter(server.ws_url, t) for t in tallies]
    try:
        for chatter in chatters:
            chatter.connect()
        send_bursts(chatters, tallies, burst)
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        readers = [threading.Thread(target=_drain_frames, args=(c, t)) for c, t in zip(chatters, tallies,
                                                                                       strict=True)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(60)
        server.process.wait(60)
        return summary(tallies, postgres.url)
    finally:
        server.stop()
        postgres.remove()


def sigkill(code: Path, source: Path, work: Path, customers: int, burst: int = 8) -> dict[str, object]:
    postgres = PrivatePostgres.create()
    data, env = copy_data_dir(source, work / "data"), {"HELPLINE_JOURNAL_PATH": str(work / "journal.db")}
    server = start_helpline(data, postgres.url, work / "server.log", code, HELPLINE_STREAM_DELAY_MS="60", **env)
    tallies = [Tally() for _ in range(customers)]
    chatters = [Chatter(server.ws_url, t) for t in tallies]
    try:
        for chatter in chatters:
            chatter.connect()
        readers = [threading.Thread(target=_drain_frames, args=(c, t)) for c, t in zip(chatters, tallies,
                                                                                       strict=True)]
        send_bursts(chatters, tallies, burst)
        for reader in readers:
            reader.start()
        time.sleep(0.5)
        server.process.kill()
        server.process.wait(30)
        for reader in readers:
            reader.join(60)
        server = start_helpline(data, postgres.url, work / "again.log", code, **env)  # the same journal
        wait_healthy(_http(server))
        return summary(tallies, postgres.url)
    finally:
        server.stop()
        postgres.remove()


def send_bursts(chatters: Sequence[Chatter], tallies: Sequence[Tally], burst: int) -> None:
    """Every customer sends ``burst`` messages at once, without waiting for an answer."""
    for chatter, tally in zip(chatters, tallies, strict=True):
        assert chatter.ws is not None
        for n in range(burst):
            tally.sent += 1
            chatter.ws.send(json.dumps({"type": "message", "text": QUESTIONS[n % len(QUESTIONS)], "id": f"m{n}"}))


def _drain_frames(chatter: Chatter, tally: Tally) -> None:
    """Read until the server closes: which messages were acknowledged and answered in full."""
    assert chatter.ws is not None
    try:
        while True:
            frame = json.loads(chatter.ws.recv(timeout=60))
            if frame.get("type") in ("reply.start", "message.received"):
                tally.acknowledged.append(QUESTIONS[int(frame["in_reply_to"][1:]) % len(QUESTIONS)])
            elif frame.get("type") == "reply.end":
                tally.answered += 1
            elif frame.get("type") == "error":
                tally.errors += 1
    except (ConnectionClosed, TimeoutError):
        tally.closed_by_server += 1


def redis_outage(code: Path, source: Path, work: Path, customers: int, outage_s: float) -> dict[str, object]:
    postgres, redis_server = PrivatePostgres.create(), PrivateRedis.create()
    server = start_helpline(copy_data_dir(source, work / "data"), postgres.url, work / "server.log", code,
                            HELPLINE_JOURNAL_PATH=str(work / "journal.db"), HELPLINE_REDIS_URL=redis_server.url,
                            HELPLINE_STREAM_DELAY_MS="0")
    try:
        tallies, newcomer = outage(server, customers, outage_s, redis_server.stop, redis_server.start)
        return summary([*tallies, newcomer], postgres.url, newcomer)
    finally:
        server.stop()
        redis_server.stop()
        postgres.remove()


def export(ref: str, target: Path) -> Path:
    """The tree at ``ref``, exported with ``git archive`` (served with this venv)."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


SCENARIOS: dict[str, Callable[..., dict[str, object]]] = {
    "database outage": database_outage, "SIGTERM": sigterm, "SIGKILL": sigkill, "Redis outage": redis_outage,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="the older version to compare with")
    parser.add_argument("--customers", type=int, default=5)
    parser.add_argument("--outage-s", type=float, default=15.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    source = prepared_source()
    rows = []
    with tempfile.TemporaryDirectory(prefix="helpline-faults-") as tmp:
        versions = {"this tree": ROOT, f"baseline {args.baseline_ref}": export(args.baseline_ref,
                                                                                Path(tmp) / "baseline")}
        for scenario, run in SCENARIOS.items():
            for version, code in versions.items():
                work = Path(tmp) / f"{scenario}-{version}".replace(" ", "-")
                work.mkdir()
                extra = () if scenario.startswith("SIG") else (args.outage_s,)
                figures = run(code, source, work, args.customers, *extra)
                rows.append((scenario, version, figures))
                print(scenario, version, figures, flush=True)
                shutil.rmtree(work / "data", ignore_errors=True)
    columns = list(rows[0][2])
    table = ["| scenario | version | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    table += [f"| {s} | {v} | " + " | ".join(str(f[c]) for c in columns) + " |" for s, v, f in rows]
    body = (f"`python -m benchmarks.faults --customers {args.customers} --outage-s {args.outage_s:g}`: "
            f"{args.customers} customers on real sockets against a private PostgreSQL (and Redis) that the run "
            "stops and starts; each scenario on this tree and on the version before the hardening work. "
            "*Acknowledged*: a reply began or `message.received` came; *lost*: acknowledged but not stored once "
            "the fault was over. Faults injected: one a scenario and version, "
            f"{len(rows)} in all.\n\n" + "\n".join(table))
    print(body)
    if not args.no_record:
        record("Faults: sent against stored", body)


if __name__ == "__main__":
    main()
