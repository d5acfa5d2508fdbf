"""Memory under a long steady load: does the server's RSS stay flat once it has warmed up?

    .venv/bin/python -m benchmarks.soak [--minutes 10] [--rate 100] [--connections 200] [--no-record]

Starts ``helpline serve`` as ``benchmarks.e2e_ws`` does (a private copy of the prepared demo data dir, a fresh
SQLite database) and offers ``--rate`` messages/s for ``--minutes``, one minute at a time: every minute a
fresh crowd of ``--connections`` customers opens new conversations, so the run covers connection churn and a
growing database, not one long-lived set of sockets. The server's RSS is sampled every few seconds. The
target: the RSS at the end within 10% of the RSS after the first minute. Records the section "Memory under a
steady load" in benchmarks/RESULTS.md and the RSS curve in benchmarks/soak.png.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from benchmarks.e2e import servers
from benchmarks.e2e.load import closed_loop, open_loop
from benchmarks.e2e.reconcile import reconcile
from benchmarks.e2e.report import summarize, triple
from benchmarks.e2e_ws import demo_questions, log, raise_open_files
from benchmarks.plots import figure
from benchmarks.results import machine, record

SECTION = "Memory under a steady load"
PLOT = Path(__file__).with_name("soak.png")
SAMPLE_S = 5.0
TOLERANCE = 0.10


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="messages/s offered")
    parser.add_argument("--connections", type=int, default=200, help="customers per minute")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds after which a message is lost")
    parser.add_argument("--no-record", action="store_true", help="print, do not write RESULTS.md or the plot")
    return parser.parse_args(argv)


async def sample_rss(pid: int, started: float, samples: list[tuple[float, float]]) -> None:
    process = psutil.Process(pid)
    while True:
        with contextlib.suppress(psutil.Error):
            samples.append((time.perf_counter() - started, process.memory_info().rss / 2**20))
        await asyncio.sleep(SAMPLE_S)


async def soak(args: argparse.Namespace, server: servers.Server, database: Path) -> dict[str, Any]:
    questions = demo_questions()
    await closed_loop(server.ws_url, 1, questions, "warm-", 0, 2, args.timeout)  # lazy first passes
    await servers.wait_idle(server.pid)
    samples: list[tuple[float, float]] = []
    started = time.perf_counter()
    sampler = asyncio.create_task(sample_rss(server.pid, started, samples))
    minutes: list[dict[str, Any]] = []
    lost = sent = 0
    try:
        for minute in range(args.minutes):
            load = await open_loop(server.ws_url, args.connections, args.rate, questions, f"m{minute}-", 1.0,
                                   60.0, args.timeout)
            figures = summarize(load)
            checked = reconcile(load.messages, database, f"m{minute}-")
            rss = psutil.Process(server.pid).memory_info().rss / 2**20
            minutes.append({"minute": minute + 1, "rss_mb": rss, "figures": figures, "database": checked})
            sent, lost = sent + figures["sent"], lost + figures["lost"]
            log(f"minute {minute + 1}: rss {rss:.0f} MB, {figures['messages_per_s'] or 0:.1f} msg/s, "
                f"first delta {triple(figures['first_delta'])}, lost {figures['lost']}")
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    first, last = minutes[0]["rss_mb"], minutes[-1]["rss_mb"]
    return {"minutes": minutes, "samples": samples, "rss_after_first_minute_mb": first, "rss_end_mb": last,
            "growth": last / first - 1, "sent": sent, "lost": lost}


def markdown(result: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    growth = result["growth"]
    verdict = "within" if abs(growth) <= TOLERANCE else "outside"
    lines = [
        f"Command: `{command}`. {args.rate:g} messages/s offered for {args.minutes} minutes, a fresh crowd of "
        f"{args.connections} customers (new conversations) every minute; SQLite; load client on the same "
        "machine. Memory is the server process's RSS.",
        "",
        f"**RSS {result['rss_after_first_minute_mb']:.0f} MB after the first minute, "
        f"{result['rss_end_mb']:.0f} MB at the end: {growth:+.1%}, {verdict} the 10% target.** "
        f"{result['lost']:,} of {result['sent']:,} messages lost.",
        "",
        "| minute | RSS (MB) | messages/s | first `reply.delta` p50 / p95 / p99 | lost | database after the minute |",
        "|---|---|---|---|---|---|",
    ]
    for m in result["minutes"]:
        f, db = m["figures"], m["database"]
        problems = sum(p["count"] for p in db["problems"].values())
        lines.append(f"| {m['minute']} | {m['rss_mb']:.0f} | {f['messages_per_s'] or 0:.1f} | "
                     f"{triple(f['first_delta'])} | {f['lost']} | {db['replies_stored']:,} replies stored of "
                     f"{db['sent']:,} sent, {problems} problems |")
    lines += ["", f"![RSS over the run]({PLOT.name})"]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: Path) -> None:
    seconds, rss = zip(*result["samples"], strict=True)
    with figure(path, (7, 3.5), dpi=100) as ax:
        ax.plot([s / 60 for s in seconds], rss)
        first = result["rss_after_first_minute_mb"]
        ax.axhspan(first * (1 - TOLERANCE), first * (1 + TOLERANCE), alpha=0.15, label="±10% of minute 1")
        ax.set_xlabel("minutes")
        ax.set_ylabel("server RSS (MB)")
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower right")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    raise_open_files()
    command = "python -m benchmarks.soak " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    source = servers.prepared_source()
    with tempfile.TemporaryDirectory(prefix="helpline-soak-") as tmp:
        work = Path(tmp)
        data_dir = servers.copy_data_dir(source, work / "var")
        database = work / "helpline.db"
        server = servers.start_helpline(data_dir, f"sqlite:///{database}", work / "helpline.log")
        try:
            result = asyncio.run(soak(args, server, database))
        finally:
            server.stop()
    if not args.no_record:
        plot(result, PLOT)
        record(SECTION, markdown(result, args, command.strip()))
    log(f"machine: {machine()}")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, default=str))
    return result


if __name__ == "__main__":
    main()
