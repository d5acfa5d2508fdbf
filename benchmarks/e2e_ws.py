"""End to end over WebSockets: a real Helpline server under customer load, against a bare echo server, same run.

    .venv/bin/python -m benchmarks.e2e_ws [--quick] [--profile] [--levels 1,50,200,500] [--rates 10,100]
        [--seconds 20] [--ramp 5] [--timeout 60] [--server-code DIR] [--keep DIR] [--no-echo] [--no-record]

Starts ``helpline serve`` (a private copy of a prepared demo data dir: ./var when it has a model, else a cache
prepared once by ``helpline setup``; a fresh SQLite database) and the echo server (``benchmarks.e2e.echo``) as
subprocesses on loopback. For each level, customers are ramped in and send the demo company's questions back to
back (``benchmarks.e2e.load.closed_loop``), first to Helpline, then to the echo server; then fixed offered loads
(``--rates`` messages/s over ``--rate-connections``, open loop, timed from each message's scheduled time). After
each Helpline load the server is left to go idle and its database is compared with what was sent.
``--profile`` adds one more Helpline load at ``--profile-connections`` with py-spy attached (its own load, so
the profiler's cost stays out of the table). ``--server-code`` runs another version of the server (a
``git archive`` export) with this venv, to measure a before and an after. Prints one JSON
line last and records the sections "End-to-end WebSocket load" (and "End-to-end WebSocket profile") in
benchmarks/RESULTS.md, the plot in benchmarks/e2e_ws.png.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import psutil
import torch

from benchmarks.e2e import servers
from benchmarks.e2e.load import Load, closed_loop, open_loop
from benchmarks.e2e.profile import Profiler, py_spy
from benchmarks.e2e.reconcile import reconcile
from benchmarks.e2e.report import markdown, plot, profile_markdown, summarize
from benchmarks.results import machine, record
from bot.settings import Settings

SECTION = "End-to-end WebSocket load"
PROFILE_SECTION = "End-to-end WebSocket profile"
DEMO = Path(__file__).resolve().parents[1] / "demo"
PLOT = Path(__file__).with_name("e2e_ws.png")
SKIPPED_INTENTS = {"human_agent", "out_of_scope"}  # asking for a person on purpose would silence the bot
PY_SPY_ARGS = "record --rate 100 --format raw --threads --nolineno --nonblocking"


def demo_questions() -> list[str]:
    """The demo FAQ's questions and its intent examples (not the handoff or out-of-scope ones), shuffled."""
    texts = [json.loads(line)["question"] for line in (DEMO / "faq.jsonl").read_text().splitlines() if line]
    with (DEMO / "intents.csv").open(newline="") as handle:
        texts += [row["text"] for row in csv.DictReader(handle) if row["intent"] not in SKIPPED_INTENTS]
    unique = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    random.Random(0).shuffle(unique)
    return unique


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="levels 1,50,200, shorter loads, 30 s timeout")
    parser.add_argument("--levels", help="concurrent connections per back-to-back load (default 1,50,200,500)")
    parser.add_argument("--seconds", type=float, help="length of each load after its ramp (default 20, quick 10)")
    parser.add_argument("--ramp", type=float, help="seconds over which connections open (default 5, quick 3)")
    parser.add_argument("--rates", default="10,100", help="fixed offered loads, messages/s")
    parser.add_argument("--rate-connections", type=int, default=200)
    parser.add_argument("--timeout", type=float, help="seconds after which a message is lost (default 60, quick 30)")
    parser.add_argument("--profile", action="store_true", help="one more Helpline load with py-spy attached")
    parser.add_argument("--profile-connections", type=int, default=200)
    parser.add_argument("--data-from", type=Path, help="a prepared data dir to copy (default ./var or the cache)")
    parser.add_argument("--server-code", type=Path, default=servers.ROOT,
                        help="source tree the server runs (e.g. a `git archive` export of another commit)")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo baseline")
    parser.add_argument("--keep", type=Path, help="copy the server log, database and raw py-spy stacks here")
    parser.add_argument("--no-record", action="store_true", help="print, do not write RESULTS.md or the plot")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in (args.levels or ("1,50,200" if args.quick else "1,50,200,500")).split(",")]
    args.rates = [float(x) for x in args.rates.split(",") if x]
    args.seconds = args.seconds or (10.0 if args.quick else 20.0)
    args.ramp = args.ramp if args.ramp is not None else (3.0 if args.quick else 5.0)
    args.timeout = args.timeout or (30.0 if args.quick else 60.0)
    return args


def raise_open_files() -> None:
    """500 customers need 500 sockets here and in the server (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    """Runs loads against both servers and keeps every run's figures."""

    def __init__(self, args: argparse.Namespace, helpline: servers.Server, echo: servers.Server | None,
                 database: Path) -> None:
        self.args, self.helpline, self.echo, self.database = args, helpline, echo, database
        self.questions = demo_questions()
        self.runs: list[dict[str, Any]] = []

    async def measure(self, server: servers.Server, prefix: str, drive: Callable[[str, str], Awaitable[Load]],
                      profiler: Profiler | None = None) -> dict[str, Any]:
        monitor = servers.Monitor(server.pid)
        monitor.start()
        if profiler is not None:
            profiler.start()
        load = await drive(server.ws_url, prefix)
        resources = await monitor.stop()
        if profiler is not None:
            self.profile = profiler.stop()
        idle_s = await servers.wait_idle(server.pid, timeout=2 * self.args.timeout)
        run: dict[str, Any] = {"server": "Helpline" if server is self.helpline else "echo",
                               "figures": summarize(load), "resources": resources, "settle_s": idle_s}
        if server is self.helpline:
            run["database"] = reconcile(load.messages, self.database, prefix)
        f = run["figures"]
        log(f"{run['server']:8} {f['load']:32} {f['messages_per_s'] or 0:8.1f} msg/s  answered {f['answered']}"
            f"/{f['sent']} lost {f['lost']} handoff {f['handed_off']}  server {resources['server_cores']:.2f} "
            f"cores  first delta {f['first_delta']}")
        return run

    def closed(self, connections: int) -> Callable[[str, str], Awaitable[Load]]:
        a = self.args
        return lambda url, prefix: closed_loop(url, connections, self.questions, prefix, a.ramp, a.seconds,
                                               a.timeout)

    def offered(self, rate: float) -> Callable[[str, str], Awaitable[Load]]:
        a = self.args
        return lambda url, prefix: open_loop(url, a.rate_connections, rate, self.questions, prefix, a.ramp,
                                             a.seconds, a.timeout)

    async def both(self, name: str, drive: Callable[[str, str], Awaitable[Load]]) -> None:
        self.runs.append(await self.measure(self.helpline, f"{name}-", drive))
        if self.echo is not None:
            self.runs.append(await self.measure(self.echo, f"echo-{name}-", drive))

    async def run(self) -> dict[str, Any] | None:
        # warm-up: the first turns load lazily (tokenizer caches, first forward passes); not reported
        await closed_loop(self.helpline.ws_url, 1, self.questions, "warm-", 0, 2, self.args.timeout)
        await servers.wait_idle(self.helpline.pid)
        self.rss_ready_mb = psutil.Process(self.helpline.pid).memory_info().rss / 2**20
        for level in self.args.levels:
            await self.both(f"c{level}", self.closed(level))
        for rate in self.args.rates:
            await self.both(f"r{rate:g}", self.offered(rate))
        if not self.args.profile:
            return None
        profiler = Profiler(self.helpline.pid, self.database.with_name("py-spy.txt"))
        run = await self.measure(self.helpline, "profiled-", self.closed(self.args.profile_connections), profiler)
        return {"profile": self.profile, "run": run}


def context(args: argparse.Namespace, argv: Sequence[str] | None) -> dict[str, Any]:
    settings = Settings(data_dir=Path(tempfile.gettempdir()))
    load = psutil.getloadavg()[0]
    return {
        "command": ("python -m benchmarks.e2e_ws " + " ".join(
            Path(arg).name if Path(arg).is_absolute() else arg for arg in (sys.argv[1:] if argv is None else argv)
        )).strip(),  # no machine path in the results
        "machine": f"{psutil.cpu_count()} logical CPUs, Python {platform.python_version()}, torch {torch.__version__}",
        "note": (f"Helpline code: {servers.code_version(args.server_code)}. Load client, Helpline and echo "
                 "server on the same machine over loopback; Helpline with its "
                 f"defaults (stream delay {settings.stream_delay_ms} ms between chunks of "
                 f"{settings.stream_chunk_words} words, device {settings.device or 'auto'}, log level warning), "
                 f"SQLite. Each load: {args.ramp:g} s ramp, {args.seconds:g} s at full load, then the drain; "
                 f"fixed offered loads over {args.rate_connections} connections. Load average "
                 f"{load:.2f} at the start; other work may share the machine (see its cores below)."),
        "timeout": args.timeout,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.profile:
        try:
            py_spy()
        except FileNotFoundError as exc:  # the loads still run; the previous profile section stays as it was
            log(f"{exc}; running without the profile")
            args.profile = False
    raise_open_files()
    ctx = context(args, argv)
    source = servers.prepared_source(args.data_from)
    with tempfile.TemporaryDirectory(prefix="helpline-e2e-") as tmp:
        work = Path(tmp)
        data_dir = servers.copy_data_dir(source, work / "var")
        database = work / "helpline.db"
        log(f"data dir copied from {source}; starting helpline serve and the echo server")
        helpline = servers.start_helpline(data_dir, f"sqlite:///{database}", work / "helpline.log",
                                          args.server_code)
        echo = None if args.no_echo else servers.start_echo(work / "echo.log")
        try:
            bench = Bench(args, helpline, echo, database)
            profiled = asyncio.run(bench.run())
            ctx["rss_ready_mb"] = bench.rss_ready_mb
            ctx["rss_end_mb"] = psutil.Process(helpline.pid).memory_info().rss / 2**20
        finally:
            helpline.stop()
            if echo is not None:
                echo.stop()
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("helpline.log", "helpline.db", "echo.log", "py-spy.txt"):
                if (work / name).exists():
                    shutil.copy2(work / name, args.keep / name)
        report: dict[str, Any] = {"runs": bench.runs, **ctx}
        if not args.no_record:
            plot(bench.runs, PLOT)
            record(SECTION, markdown(bench.runs, {**ctx, "plot": PLOT.name}))
        if profiled is not None:
            profile, run = profiled["profile"], profiled["run"]
            f = run["figures"]
            pctx = {**ctx, "py_spy_args": f"`{PY_SPY_ARGS}`", "load": f["load"],
                    "figures": f"{f['messages_per_s'] or 0:.1f} messages/s while profiled, server "
                               f"{run['resources']['server_cores']:.2f} cores"}
            report["profile"] = {"run": run, "samples": profile.samples, "threads": profile.thread_cores,
                                 "own": profile.own.most_common(15), "total": profile.total.most_common(15),
                                 "packages": profile.packages.most_common(15)}
            if not args.no_record:
                record(PROFILE_SECTION, profile_markdown(profile, pctx))
    log(f"machine: {machine()}")
    print(json.dumps(report, default=str))
    return report


if __name__ == "__main__":
    main()
