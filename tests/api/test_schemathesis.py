"""Schemathesis against the /openapi.json of a real server on PostgreSQL, anonymous, as an agent and as an admin:
no server error, and every answer (status, content type, body, headers) is one the schema documents.

A few cases per operation, to stay quick; ``python -m benchmarks.api_fuzz`` runs hundreds. What the runs leave
out, and why, is in ``tests/fuzzing.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzzing import ROLES, Target, prepare, run
from tests.servers import postgres_database, start_server, stop_server
from tests.tiny_models import fresh_data_dir

MAX_EXAMPLES = 5  # per operation and role, in the fuzzing phase (the coverage phase adds its own cases)


@pytest.fixture(scope="module")
def target(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A server of our own (admins add FAQ entries to its data dir), its accounts logged in before any run."""
    workdir = tmp_path_factory.mktemp("schemathesis")
    data_dir, _ = fresh_data_dir(demo_data_dir, workdir / "data")
    with postgres_database() as database_url:
        server = start_server(data_dir, database_url, workdir / "server.log")
        try:
            yield prepare(server.url, server.ws_url, database_url)
        finally:
            stop_server(server)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(target: Target, role: str) -> None:
    tally = run(target, role, MAX_EXAMPLES)
    assert tally.operations >= 30 and tally.requests >= 10 * tally.operations, tally
    assert not tally.failures and not tally.errors, tally.report()
    if role == "anonymous":  # everything but logging in, out and /health wants a login
        assert set(tally.by_class()) <= {"2xx", "4xx"} and tally.statuses[401] > tally.requests / 2, tally
    else:
        assert tally.by_class()["2xx"] > 0, tally


def test_the_runs_left_their_own_sessions_alive(target: Target) -> None:
    for role in ("agent", "admin"):
        assert target.call("GET", "/api/agent/me", role).status_code == 200, role
