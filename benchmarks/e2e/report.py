"""Figures of one load (throughput, latency percentiles, losses) and their tables and plot for RESULTS.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.e2e.load import Load
from benchmarks.e2e.profile import TOP, Profile
from benchmarks.plots import figure

LATENCIES = {"reply_start": "start", "first_delta": "delta", "reply_end": "end"}
LOST = ("timeout", "closed", "unsent")  # and every error:<code>


def summarize(load: Load) -> dict[str, Any]:
    """messages/s over the load's window, latency percentiles (ms, from when each message was due), outcomes."""
    ok = [m for m in load.messages if m.outcome == "ok"]
    start, end = load.window
    answered_in_window = sum(start <= (m.end or 0.0) <= end for m in ok)
    outcomes = Counter(m.outcome for m in load.messages)
    figures: dict[str, Any] = {
        "load": load.label, "connections": load.connections, "rate": load.rate,
        "messages_per_s": answered_in_window / (end - start) if end > start else None,
        "sent": sum(m.sent is not None for m in load.messages), "answered": len(ok),
        "handed_off": outcomes.get("handoff", 0),
        "lost": sum(n for o, n in outcomes.items() if o in LOST or o.startswith("error:")),
        "outcomes": dict(outcomes), "failed_connects": len(load.failed_connects),
        "connect_errors": sorted(set(load.failed_connects))[:3],
        "closes": dict(Counter(load.closes)),
        "seconds": load.finished - load.started,
    }
    for name, attribute in LATENCIES.items():
        values = [1000 * (getattr(m, attribute) - m.scheduled) for m in ok if getattr(m, attribute) is not None]
        figures[name] = percentiles(values)
    figures["connect"] = percentiles([1000 * s for s in load.connect_s])
    return figures


def percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}


def triple(p: dict[str, float] | None, keys: tuple[str, ...] = ("p50", "p95", "p99")) -> str:
    """``53 / 87 / 120 ms`` or ``10.0 / 14.2 / 15.1 s``, one unit for the three."""
    if p is None:
        return "–"
    values = [p[k] for k in keys]
    if max(values) >= 1000:
        return " / ".join(f"{v / 1000:.1f}" for v in values) + " s"
    digits = 1 if max(values) < 10 else 0
    return " / ".join(f"{v:.{digits}f}" for v in values) + " ms"


def rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _row(server: str, f: dict[str, Any]) -> str:
    return (f"| {server} | {f['load']} | {rate(f['messages_per_s'])} | {triple(f['reply_start'])} | "
            f"{triple(f['first_delta'])} | {triple(f['reply_end'])} | {f['answered']:,} / {f['sent']:,} | "
            f"{f['lost']:,} | {f['handed_off']:,} | {triple(f['connect'], ('p50', 'p95'))} |")


def markdown(runs: list[dict[str, Any]], context: dict[str, Any]) -> str:
    """The section body: what ran, the figures, the ratio to the echo server, resources, the database check."""
    lines = [
        f"Command: `{context['command']}`. {context['machine']}. {context['note']}",
        "",
        "Latencies are from when each message was due (its send in a closed loop, its scheduled time at a fixed "
        "offered load) to the frame's arrival, over answered messages; messages/s counts replies completed while "
        "every connection was open (after the ramp, before the level's end). Lost: no `reply.end` within the "
        f"{context['timeout']:g} s timeout, an error frame, or a closed socket. Handed off: the classifier sent the "
        "conversation to a person (`message.received`, stored; the client then opens a new conversation).",
        "",
        "| server | load | messages/s | `reply.start` p50 / p95 / p99 | first `reply.delta` p50 / p95 / p99 | "
        "`reply.end` p50 / p95 / p99 | answered / sent | lost | handed off | connect p50 / p95 |",
        "|---|---|---:|---|---|---|---:|---:|---:|---|",
    ]
    lines += [_row(run["server"], run["figures"]) for run in runs]
    lines += ["", "Helpline against the echo server in the same run (Helpline ÷ echo):", "",
              "| load | messages/s | first `reply.delta` p50 | first `reply.delta` p95 |", "|---|---:|---:|---:|"]
    by_load: dict[str, dict[str, dict[str, Any]]] = {}
    for run in runs:
        by_load.setdefault(run["figures"]["load"], {})[run["server"]] = run["figures"]
    for load, pair in by_load.items():
        ours, echo = pair.get("Helpline"), pair.get("echo")
        if ours is None or echo is None:
            continue
        lines.append(f"| {load} | {_ratio(ours['messages_per_s'], echo['messages_per_s'])} | "
                     f"{_ratio(_p(ours, 'p50'), _p(echo, 'p50'))} | {_ratio(_p(ours, 'p95'), _p(echo, 'p95'))} |")
    lines += ["", "CPU in cores (CPU seconds ÷ wall seconds over the load, ramp and drain included) and memory:", "",
              "| server | load | server cores | load client cores | rest of the machine | server peak RSS | "
              "server RSS after |", "|---|---|---:|---:|---:|---:|---:|"]
    for run in runs:
        r = run["resources"]
        others = max(r["machine_cores"] - r["server_cores"] - r["client_cores"], 0.0)
        lines.append(f"| {run['server']} | {run['figures']['load']} | {r['server_cores']:.2f} | "
                     f"{r['client_cores']:.2f} | {others:.2f} | {r['peak_rss_mb']:,.0f} MB | {r['rss_mb']:,.0f} MB |")
    lines += ["", f"Helpline's RSS: {context['rss_ready_mb']:,.0f} MB when ready, {context['rss_end_mb']:,.0f} MB "
              "at the end of the run.", "",
              "What the database holds after each Helpline load (read after the server went idle):", "",
              "| load | sent | stored | bot replies stored | handed off | not answered or not stored |",
              "|---|---:|---:|---:|---:|---|"]
    for run in runs:
        check = run.get("database")
        if check is None:
            continue
        issues = [f"{name}: {p['count']} ({', '.join(p['first'])}{', …' if p['count'] > len(p['first']) else ''})"
                  for name, p in check["problems"].items() if p["count"]]
        lines.append(f"| {run['figures']['load']} | {check['sent']:,} | {check['stored']:,} | "
                     f"{check['replies_stored']:,} | {check['handed_off']:,} | {'; '.join(issues) or 'none'} |")
    failed = [f"{run['server']} {run['figures']['load']}: {run['figures']['failed_connects']} "
              f"({'; '.join(run['figures']['connect_errors'])})" for run in runs if run["figures"]["failed_connects"]]
    if failed:
        lines += ["", "Connections that could not open: " + "; ".join(failed) + "."]
    closes = [f"{run['server']} {run['figures']['load']}: "
              + "; ".join(f"{n} × {why}" for why, n in run["figures"]["closes"].items())
              for run in runs if run["figures"]["closes"]]
    if closes:
        lines += ["", "Sockets closed under the client (their unanswered messages count as lost): "
                  + "; ".join(closes) + "."]
    if context.get("plot"):
        lines += ["", f"![latency and throughput against connections]({context['plot']})"]
    return "\n".join(lines)


def _p(figures: dict[str, Any], key: str) -> float | None:
    delta = figures["first_delta"]
    return None if delta is None else delta[key]


def _ratio(ours: float | None, echo: float | None) -> str:
    if not ours or not echo:
        return "–"
    value = ours / echo
    return f"{value:.2g}×" if value < 1 else f"{value:,.0f}×"


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """First reply.delta p50/p95 and messages/s against connections, back-to-back loads, both servers."""
    with figure(path, (11, 4.2), panels=2) as (latency, throughput):
        for server, colour in (("Helpline", "tab:blue"), ("echo", "tab:gray")):
            closed = [r["figures"] for r in runs if r["server"] == server and r["figures"]["rate"] is None]
            xs = [f["connections"] for f in closed]
            for key, style in (("p50", "-o"), ("p95", "--s")):
                ys = [_p(f, key) for f in closed]
                latency.plot(xs, [np.nan if y is None else y for y in ys], style, color=colour,
                             label=f"{server} {key}")
            throughput.plot(xs, [f["messages_per_s"] or np.nan for f in closed], "-o", color=colour, label=server)
        latency.set(xscale="log", yscale="log", xlabel="concurrent connections", ylabel="ms",
                    title="first reply.delta after sending")
        throughput.set(xscale="log", yscale="log", xlabel="concurrent connections", ylabel="messages/s",
                       title="replies completed per second")
        for axes in (latency, throughput):
            axes.grid(True, which="both", alpha=0.3)
            axes.legend()


def profile_markdown(profile: Profile, context: dict[str, Any]) -> str:
    """Threads, packages and the top functions by own and by total time."""
    share = 100 / max(profile.samples, 1)
    lines = [
        f"Command: `{context['command']}`. {context['machine']}. {context['note']}",
        "",
        f"py-spy {context['py_spy_args']} attached to the Helpline server for {profile.seconds:.0f} s of the "
        f"{context['load']} load ({context['figures']}); {profile.samples:,} samples of threads running Python "
        f"(py-spy itself used {profile.profiler_cores:.2f} cores; {profile.waiting:,} more samples were blocking "
        "waits py-spy did not mark idle, epoll and idle workers' queues, and are left out). Time in torch's "
        "kernels is charged to the "
        "Python frame that called them. Own: samples where the function was running; total: samples where it "
        "was on the stack (thread starts and event-loop plumbing left out).",
        "",
        "| thread | share of samples | CPU (cores, from /proc) |", "|---|---:|---:|",
    ]
    groups = sorted(set(profile.by_thread) | set(profile.thread_cores),
                    key=lambda g: -profile.thread_cores.get(g, 0.0))
    lines += [f"| {g} | {profile.by_thread.get(g, 0) * share:.1f}% | {profile.thread_cores.get(g, 0.0):.2f} |"
              for g in groups]
    lines += ["", "Where Helpline's own code spends it: each sample charged to the innermost frame of Helpline's "
              "code on its stack (where it calls into torch, SQLAlchemy, FAISS…):", "",
              "| Helpline function | file | share |", "|---|---|---:|"]
    for frame, count in profile.ours.most_common(TOP):
        name, _, where = frame.partition(" (")
        cells = f"`{name}` | `{where.rstrip(')')}`" if where else f"{frame} | –"
        lines.append(f"| {cells} | {count * share:.1f}% |")
    lines += ["", "Own time by package (the running frame's module):", "", "| package | own |", "|---|---:|"]
    lines += [f"| {name} | {count * share:.1f}% |" for name, count in profile.packages.most_common(TOP)]
    for title, counter in (("own", profile.own), ("total", profile.total)):
        lines += ["", f"Top {TOP} by {title} time:", "", "| function | file | own | total |", "|---|---|---:|---:|"]
        for frame, _ in counter.most_common(TOP):
            name, _, where = frame.partition(" (")
            lines.append(f"| `{name}` | `{where.rstrip(')')}` | {profile.own.get(frame, 0) * share:.1f}% | "
                         f"{profile.total.get(frame, 0) * share:.1f}% |")
    return "\n".join(lines)
