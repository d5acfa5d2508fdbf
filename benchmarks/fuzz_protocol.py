"""Fuzzing the customer protocol: frames drawn by hypothesis on real sockets to a real server, and what came of them.

    .venv/bin/python -m benchmarks.fuzz_protocol [--frames 100000] [--default-share 0.1] [--batch 100] [--seed 0]
                                                 [--baseline-ref REF] [--baseline-frames 10000] [--no-record]

The frames (``tests/protocol_frames.py``): every frame type with each field valid, wrong, missing or beside
extra fields; JSON of any shape; text that is not JSON; numbers too long to read, NaN and Infinity; nesting
up to 30,000 deep; surrogates, NUL and right-to-left marks in every field; binary frames; text frames that
are not UTF-8; empty frames; frames over the server's limit and over the protocol's. ``tests/protocol_fuzz.py``
sends them to ``helpline serve`` on a private PostgreSQL and Redis: ``--frames`` to this tree, most with the
per-socket rate limits raised out of the way, so that the frames reach the parser and the handlers, and
``--default-share`` of them to a second server at the default limits, so that the refusals are fuzzed too.
One step in three begins on a fresh socket whose first six frames are fuzzed before ``start`` or ``resume``
(half of them start and resume frames, right or wrong); one in ten starts a new conversation. After every
``--batch`` frames a valid message checks that the socket still answers.

A server error is a traceback or ``ERROR`` in a server's log, an ``internal`` error frame, a close the frames
did not ask for, or a check not answered: there must be none. The baseline, in the same run: frames drawn from
the same seed (``--baseline-frames`` of them, limits raised) to the version before the fuzzing's fixes
(``--baseline-ref``, exported with ``git archive`` and served with the same venv). Records the section
"Fuzzing the customer protocol" in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from benchmarks.e2e.servers import ROOT, copy_data_dir, prepared_source, start_helpline
from benchmarks.results import record
from bot.settings import Settings
from tests.protocol_frames import Frame, frames, session_frames
from tests.protocol_fuzz import CLOSED, INTERNAL, LOGGED, UNANSWERED, Fuzzer, Tally, stored_checks, stored_messages
from tests.servers import start_server, stop_server
from tests.services import PrivatePostgres, PrivateRedis

SECTION = "Fuzzing the customer protocol"
BASELINE_REF = "6912ba5"  # the last commit before the fixes the fuzzing led to
LIMITS = ("messages_per_minute", "typing_per_minute", "feedback_per_minute", "frame_burst", "connections_per_minute",
          "conversations_per_minute", "connections_per_address")
DEFAULT_LIMITS = {f"HELPLINE_{name.upper()}": str(Settings.model_fields[name].default) for name in LIMITS}
RAISED_LIMITS = {**{key: "1000000" for key in DEFAULT_LIMITS}, "HELPLINE_FRAME_BURST": "100000"}
HANDSHAKE_EVERY, HANDSHAKE_FRAMES, NEW_EVERY = 3, 6, 10
FRAMES, SESSION_FRAMES = frames(), session_frames()
CLOSES = {1006: "ended without a close frame, cut off while sending a frame over the protocol's limit",
          1007: "a text frame not UTF-8", 1009: "a frame over the protocol's limit (64 kB)",
          4401: "a resume with a wrong token (`invalid_token`)"}


@dataclass
class Part:
    """One server fuzzed: which code, at which limits, with how many frames."""

    name: str
    code: Path
    limits: dict[str, str]
    frames: int
    seed: int
    addresses: bool = False  # each socket a visitor of its own (the server trusts 127.0.0.1 as its proxy)


def fuzz(fuzzer: Fuzzer, wanted: int, batch: int, first_seed: int) -> None:
    """Send ``wanted`` frames drawn by hypothesis, ``batch`` at a time, each batch checked as it ends."""
    goal, steps = fuzzer.tally.total + wanted, itertools.count(1)
    pending: list[Frame] = []
    opening = 0  # how many of the next step's frames go to a fresh socket before start/resume

    def flush() -> None:
        nonlocal opening
        step = next(steps)
        try:
            fuzzer.step(pending, opening, new=step % NEW_EVERY == 0)
        except AssertionError as failed:  # the server would not open a conversation: a problem, not the end
            fuzzer.problem(UNANSWERED, str(failed))
            fuzzer.close()
        pending.clear()
        opening = HANDSHAKE_FRAMES if (step + 1) % HANDSHAKE_EVERY == 0 else 0
        if step % 100 == 0:
            print(f"  {fuzzer.tally.total:,} frames, {len(fuzzer.tally.problems)} problems", flush=True)

    for round_seed in itertools.count(first_seed):  # hypothesis may draw fewer than asked: go on with a new seed
        left = goal - fuzzer.tally.total - len(pending)
        if left <= 0:
            break

        @seed(round_seed)
        @settings(max_examples=left, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(FRAMES, SESSION_FRAMES, st.booleans())
        def send(frame: Frame, session_frame: Frame, first: bool) -> None:
            """``frame``; before start/resume, ``session_frame`` instead when ``first`` (every example draws the
            same way, as hypothesis needs, whatever the step it falls in)."""
            if fuzzer.tally.total + len(pending) >= goal:
                return
            pending.append(session_frame if first and len(pending) < opening else frame)
            if len(pending) == batch:
                flush()

        send()
    if pending:
        flush()
    fuzzer.close()


def run_part(part: Part, source: Path, work: Path, postgres: PrivatePostgres, redis_url: str,
             batch: int) -> tuple[Tally, float]:
    """Fuzz one server of ``part``; its tally, checked against the database, and its wall time."""
    env = {**part.limits, "HELPLINE_REDIS_URL": redis_url, "HELPLINE_STREAM_DELAY_MS": "0",
           "HELPLINE_JOURNAL_PATH": str(work / "journal.db")}
    if part.addresses:
        env["HELPLINE_TRUSTED_PROXIES"] = "127.0.0.1"
    data_dir, log = copy_data_dir(source, work / "data"), work / "server.log"
    stop: Callable[[], None]
    if part.code == ROOT:  # run as the tests run it: `python -m api.cli` in this tree
        live = start_server(data_dir, postgres.url, log, "warning", ROOT, **env)
        ws_url, stop = live.ws_url, partial(stop_server, live)
    else:  # another version's tree, ahead of the editable install
        other = start_helpline(data_dir, postgres.url, log, part.code, **env)
        ws_url, stop = other.ws_url, other.stop
    visitors = (f"198.18.{n // 250 % 250}.{n % 250 + 1}" for n in itertools.count()) if part.addresses else None
    fuzzer, started = Fuzzer(ws_url, log, visitors), time.monotonic()
    try:
        fuzz(fuzzer, part.frames, batch, part.seed)
    finally:
        stop()
    return fuzzer.tally, time.monotonic() - started


def export(ref: str, target: Path) -> Path:
    """The tree at ``ref``, exported with ``git archive`` (served with this venv)."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(f"{cell:,}" if isinstance(cell, int) else str(cell)
                                                for cell in row) + " |" for row in rows])


def report(results: dict[str, tuple[Tally, float, list[str], int]], args: argparse.Namespace,
           seconds: float) -> str:
    names, ours = list(results), [name for name in results if not name.startswith("baseline")]
    tallies = {name: result[0] for name, result in results.items()}
    summary: list[list[object]] = [
        ["frames fuzzed", *(tallies[n].total for n in names)],
        ["**server errors**", *(len(tallies[n].problems) for n in names)],
        *([f"… {kind}", *(tallies[n].problem_kinds[kind] for n in names)]
          for kind in (LOGGED, INTERNAL, CLOSED, UNANSWERED)),
        ["usable-socket checks passed / sent", *(f"{tallies[n].checks:,} / {tallies[n].checks_sent:,}" for n in names)],
        ["check messages answered / stored", *(f"{len(tallies[n].answered):,} / {len(results[n][2]):,}"
                                                for n in names)],
        ["messages acknowledged (fuzzed and checks) / customer messages stored",
         *(f"{tallies[n].acknowledged:,} / {results[n][3]:,}" for n in names)],
        ["sockets opened / conversations", *(f"{tallies[n].sockets:,} / {len(tallies[n].conversations):,}"
                                              for n in names)],
        ["wall time", *(f"{results[n][1] / 60:.1f} min" for n in names)],
    ]
    categories: Counter[str] = Counter()
    for name in ours:
        categories.update(tallies[name].frames)
        categories.update(tallies[name].handshake_frames)
    frames_rows: list[list[object]] = [
        [category, *(count for n in ours for count in (tallies[n].frames[category],
                                                       tallies[n].handshake_frames[category]))]
        for category, _ in categories.most_common()]
    frames_rows.append(["**all**", *(count for n in ours for count in (sum(tallies[n].frames.values()),
                                                                       sum(tallies[n].handshake_frames.values())))])
    codes = sorted({code for tally in tallies.values() for code in tally.errors})
    closes = sorted({code for tally in tallies.values() for code in tally.closes})
    return (
        f"`python -m benchmarks.fuzz_protocol --frames {args.frames} --default-share {args.default_share:g} "
        f"--batch {args.batch} --seed {args.seed} --baseline-ref {args.baseline_ref} --baseline-frames "
        f"{args.baseline_frames}`: frames drawn by hypothesis (`tests/protocol_frames.py`) on real sockets from "
        "127.0.0.1 to `helpline serve` on a private PostgreSQL and Redis: this tree with the per-socket rate "
        "limits raised (the frames reach the parser and the handlers) and at the default limits, and, as the "
        f"baseline, the version before the fuzzing's fixes ({args.baseline_ref}), limits raised, with frames "
        f"drawn from the same seed. A valid message after every {args.batch} frames checks that the socket still "
        "answers; one step "
        f"in {HANDSHAKE_EVERY} begins with {HANDSHAKE_FRAMES} fuzzed frames on a fresh socket before "
        f"`start`/`resume`. *Server error*: a traceback or `ERROR` in the server's log, an `internal` error "
        f"frame, a close the frames did not ask for, or a check not answered. {seconds / 60:.0f} min in all.\n\n"
        + table(["", *names], summary)
        + "\n\nFrames by category, on this tree (*open*: in an open conversation; *first*: on a fresh socket, "
        "before `start`/`resume`, where a start or resume that opens the conversation sends the frames after "
        "it to the conversation):\n\n"
        + table(["category", *(f"{n}, {where}" for n in ours for where in ("open", "first"))], frames_rows)
        + "\n\nError frames received, by code:\n\n"
        + table(["code", *names], [[f"`{code}`", *(tallies[n].errors[code] for n in names)] for code in codes])
        + "\n\nSockets the server closed, by code (on this tree each was asked for by the frame before it):\n\n"
        + table(["code", "cause", *names], [[str(code), CLOSES.get(code, "**unexpected**"),
                                             *(tallies[n].closes[code] for n in names)] for code in closes])
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--frames", type=int, default=100_000, help="frames to fuzz this tree with, in all")
    parser.add_argument("--default-share", type=float, default=0.1, help="the share sent at the default limits")
    parser.add_argument("--batch", type=int, default=100, help="frames between two checks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-ref", default=BASELINE_REF, help="the older version to fuzz as well")
    parser.add_argument("--baseline-frames", type=int, default=10_000, help="0 leaves the baseline out")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    source, started = prepared_source(), time.monotonic()
    results: dict[str, tuple[Tally, float, list[str], int]] = {}
    with tempfile.TemporaryDirectory(prefix="helpline-fuzz-") as tmp:
        at_default = round(args.frames * args.default_share)
        parts = [Part("limits raised", ROOT, RAISED_LIMITS, args.frames - at_default, args.seed),
                 Part("default limits", ROOT, DEFAULT_LIMITS, at_default, args.seed + 1, addresses=True)]
        if args.baseline_frames:  # drawn from the same seed as the first part
            parts.append(Part(f"baseline {args.baseline_ref}, limits raised",
                              export(args.baseline_ref, Path(tmp) / "baseline"), RAISED_LIMITS,
                              args.baseline_frames, args.seed))
        postgres, redis_server = PrivatePostgres.create(), PrivateRedis.create()
        try:
            for n, part in enumerate(parts):
                print(f"{part.name}: {part.frames:,} frames", flush=True)
                tally, seconds = run_part(part, source, Path(tmp) / f"part{n}", postgres, redis_server.url, args.batch)
                results[part.name] = (tally, seconds, stored_checks(postgres.url, tally.conversations),
                                      stored_messages(postgres.url, tally.conversations))
                for problem in tally.problems[:5]:
                    print(f"  PROBLEM: {problem[:2000]}\n", flush=True)
        finally:
            redis_server.stop()
            postgres.remove()
    body = report(results, args, time.monotonic() - started)
    print(body)
    if not args.no_record:
        record(SECTION, body)


if __name__ == "__main__":
    main()
