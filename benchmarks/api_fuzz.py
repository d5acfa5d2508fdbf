"""Schemathesis over the HTTP API: hundreds of cases per operation, anonymous, as an agent and as an admin.

    .venv/bin/python -m benchmarks.api_fuzz [--max-examples 300] [--roles anonymous agent admin]
        [--baseline-ref 6912ba5] [--baseline-examples 25] [--no-baseline] [--no-record]

A real ``helpline serve`` on a fresh PostgreSQL database, over a copy of the demo data dir (trained once by
``helpline setup``, as the other benchmarks prepare it), fuzzed from its own ``/openapi.json`` by schemathesis'
engine with every phase (examples, coverage, fuzzing, stateful) and the checks of ``tests/fuzzing.py``, which
also says what the runs leave out and why. For each role: the operations, the cases sent, the responses by status
class, the failures by check (there must be none) and the wall time. The same runs, with fewer cases and no
shrinking, against the version before this work (``--baseline-ref``, exported with ``git archive`` and served with
the same venv) are the baseline: what the schema and the server got wrong. Prints one JSON line, records the section
"Schemathesis over the HTTP API" in benchmarks/RESULTS.md (with what the first, exploratory run found and how
each finding was fixed), and exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import schemathesis

from benchmarks.e2e.servers import ROOT, copy_data_dir, prepared_source
from benchmarks.faults import export
from benchmarks.results import record
from tests.fuzzing import CHECKS, PHASES, ROLES, Tally, prepare, run
from tests.servers import postgres_database, start_server, stop_server

SECTION = "Schemathesis over the HTTP API"
MAX_EXAMPLES = 300
BASELINE_REF = "6912ba5"  # the last commit before this work: no security schemes, no documented refusals
BASELINE_EXAMPLES = 25
WHO = {"anonymous": "anonymous (made-up tokens and cookies)", "agent": "an agent (bearer token)",
       "admin": "an admin (bearer token)"}
# what the exploratory runs (before the fixes) found, and what answers it now
FOUND = [
    ("no security scheme: the schema did not say how to log in, nor which operations want it (their 401 was "
     "written by hand on the agent and admin routers, without its `WWW-Authenticate`)",
     "`bearer` (HTTP) and `session_cookie` (the console's cookie) schemes, required by every agent and admin "
     "operation, 401 with its `WWW-Authenticate`: `api/openapi.py` derives them from each route's dependencies"),
    ("422s whose `detail` is a string (the workspace's refusals: a bad date or cursor, a bot message labelled as a "
     "customer's) where the schema promised FastAPI's list of fields (`response_schema_conformance`)",
     "one error body, `Problem`: `detail` is words or the list of fields, for every refusal of every operation"),
    ("statuses the edge answers, undocumented: 400 for a body that is not UTF-8 text, on every operation that takes "
     "one; 413 (body limit), 403 (a cookie-authenticated change from another site's page), 503 (database or bot "
     "not there), the `Retry-After` of a throttled login; with real conversation ids, handback's 409 and close's "
     "403 and 409 (`status_code_conformance`)",
     "derived per operation from what its route depends on and takes; the routes document their own refusals"),
    ("`OPTIONS /api/admin/agents` answered 405 with `Allow: GET`: Starlette names the first matching route's "
     "methods (`allow_header_conformance`)",
     "a 405 handler that names every method of the path (`GET, POST`)"),
    ("500 on PostgreSQL (`not_a_server_error`) for a NUL character in a tag, a note, a search, a path id or a login "
     "name, and for message or proposal ids beyond INTEGER",
     "422 before the database is asked: `refuse_unstorable_text` on the API's routers (NUL, and lone surrogates, "
     "which no database can encode), ids 1..2³¹−1 in the schema"),
    ("read in the code while fixing those: 500 for an account whose display name is spaces only, and for an inbox "
     "date whose bound is no datetime (`until=9999-12-31`)",
     "422: `AgentIn` refuses the name, `parse_bound` turns the overflow into `InvalidFilter`"),
]


def fuzz(roles: Sequence[str], max_examples: int, code: Path = ROOT, shrink: bool = True) -> dict[str, Tally]:
    """One server of the tree ``code``, its accounts logged in before any role runs, then each role in turn."""
    with tempfile.TemporaryDirectory(prefix="helpline-api-fuzz-") as folder, postgres_database() as database_url:
        work = Path(folder)
        data_dir = copy_data_dir(prepared_source(), work / "data")
        server = start_server(data_dir, database_url, work / "server.log", code=code)
        try:
            target = prepare(server.url, server.ws_url, database_url)
            tallies = {}
            for role in roles:
                tallies[role] = tally = run(target, role, max_examples, shrink=shrink)
                print("this tree" if code == ROOT else "baseline", role, tally.requests, dict(tally.by_class()),
                      dict(tally.failures), f"{tally.seconds:.0f} s", file=sys.stderr, flush=True)
            alive = {role: target.call("GET", "/api/agent/me", role).status_code for role in ("agent", "admin")}
            assert alive == {"agent": 200, "admin": 200}, f"a run logged its own account out: {alive}"
        finally:
            stop_server(server)
    return tallies


def baseline(ref: str, roles: Sequence[str], max_examples: int) -> dict[str, Tally]:
    """The same runs against the tree at ``ref`` (failing cases not shrunk: there are many)."""
    with tempfile.TemporaryDirectory(prefix="helpline-api-fuzz-baseline-") as folder:
        return fuzz(roles, max_examples, export(ref, Path(folder) / "baseline"), shrink=False)


def number(value: int) -> str:
    return f"{value:,}"


def markdown(report: dict[str, Any], tallies: dict[str, Tally], command: str) -> str:
    """The RESULTS.md section body."""
    roles = list(tallies)
    classes = sorted({cls for tally in tallies.values() for cls in tally.by_class()})
    lines = [
        f"Command: `{command}` (schemathesis {schemathesis.__version__}; load average {report['load_before']} "
        f"before, {report['load_after']} after).",
        "",
        f"A real `helpline serve` on PostgreSQL, fuzzed from its own `/openapi.json` with the phases "
        f"{', '.join(PHASES)} and up to {report['max_examples']:,} cases per operation in the fuzzing phase (the "
        "coverage phase adds its own). The admin and the agent log in before any run; the logged-in runs leave "
        "out `POST /api/auth/logout` (it ends their own session), and admin operations on an account by name go to "
        "throwaway accounts, never the runs' own (`tests/fuzzing.py`). Path ids are often real ones (seeded "
        "conversations, messages, a proposal). Both sessions were alive at the end.",
        "",
        "| | " + " | ".join(WHO[role] for role in roles) + " |",
        "|---|" + "---|" * len(roles),
        "| operations | " + " | ".join(str(tallies[role].operations) for role in roles) + " |",
        "| cases sent | " + " | ".join(number(tallies[role].requests) for role in roles) + " |",
    ]
    for cls in classes:
        lines.append(f"| responses {cls} | " + " | ".join(number(tallies[role].by_class()[cls]) for role in roles)
                     + " |")
    lines.append("| statuses seen | " + " | ".join(", ".join(str(code) for code in sorted(tallies[role].statuses))
                                                   for role in roles) + " |")
    lines.append("| links between operations the stateful phase inferred | "
                 + " | ".join(str(tallies[role].links) for role in roles) + " |")
    for check in CHECKS:
        lines.append(f"| failures: `{check}` | " + " | ".join(str(tallies[role].failures[check]) for role in roles)
                     + " |")
    lines.append("| errors (a test that could not run) | " + " | ".join(str(len(tallies[role].errors))
                                                                        for role in roles) + " |")
    lines.append("| wall time | " + " | ".join(f"{tallies[role].seconds:.0f} s" for role in roles) + " |")
    if report.get("baseline"):
        before = report["baseline_tallies"]
        lines += ["", f"The same runs against the version before this work (`{report['baseline']['ref']}`), "
                  f"{report['baseline']['max_examples']} cases per operation in the fuzzing phase, failing cases "
                  "not shrunk:", "",
                  "| | " + " | ".join(WHO[role] for role in roles) + " |", "|---|" + "---|" * len(roles),
                  "| cases sent | " + " | ".join(number(before[role].requests) for role in roles) + " |",
                  "| responses 5xx | " + " | ".join(number(before[role].by_class()["5xx"]) for role in roles) + " |",
                  "| operations with a failure | " + " | ".join(
                      str(len({operation for operation, _ in before[role].examples})) for role in roles) + " |"]
        for check in CHECKS:
            lines.append(f"| failures: `{check}` | " + " | ".join(number(before[role].failures[check])
                                                                   for role in roles) + " |")
    lines += ["", "What the first, exploratory run found (schemathesis CLI and engine, before the fixes), and what "
              "answers it now:", ""]
    lines += [f"- {found}: {fixed}." for found, fixed in FOUND]
    return "\n".join(lines)


def summary(tallies: dict[str, Tally]) -> dict[str, Any]:
    return {role: {"operations": t.operations, "cases": t.requests, "statuses": dict(t.statuses),
                   "failures": dict(t.failures), "failing": sorted(f"{op}: {check}" for op, check in t.examples),
                   "errors": t.errors, "links": t.links, "seconds": round(t.seconds, 1)} for role, t in tallies.items()}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES,
                        help=f"cases per operation in the fuzzing phase (default {MAX_EXAMPLES})")
    parser.add_argument("--roles", nargs="+", choices=ROLES, default=list(ROLES), help="who fuzzes (default: all)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF,
                        help=f"the version to compare with (default {BASELINE_REF}, before this work)")
    parser.add_argument("--baseline-examples", type=int, default=BASELINE_EXAMPLES,
                        help=f"cases per operation for the baseline (default {BASELINE_EXAMPLES})")
    parser.add_argument("--no-baseline", action="store_true", help="do not fuzz the older version")
    parser.add_argument("--no-record", action="store_true", help="do not write benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its report."""
    opts = parse_args(argv)
    report: dict[str, Any] = {"max_examples": opts.max_examples, "load_before": round(os.getloadavg()[0], 1)}
    tallies = fuzz(opts.roles, opts.max_examples)
    if not opts.no_baseline:
        report["baseline_tallies"] = baseline(opts.baseline_ref, opts.roles, opts.baseline_examples)
        report["baseline"] = {"ref": opts.baseline_ref, "max_examples": opts.baseline_examples,
                              **summary(report["baseline_tallies"])}
    report["load_after"] = round(os.getloadavg()[0], 1)
    report["roles"] = summary(tallies)
    print(json.dumps({key: value for key, value in report.items() if key != "baseline_tallies"}))
    if not opts.no_record:
        command = "python -m benchmarks.api_fuzz " + " ".join(argv if argv is not None else sys.argv[1:])
        record(SECTION, markdown(report, tallies, command.strip()))
    failed = {role: tally.report() for role, tally in tallies.items() if tally.failures or tally.errors}
    if failed:
        raise SystemExit("\n\n".join(f"== {role}\n{text}" for role, text in failed.items()))
    return report


if __name__ == "__main__":
    main()
