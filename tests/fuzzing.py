"""Schemathesis over a real Helpline server, three ways: anonymous, as an agent and as an admin (bearer tokens).

Shared by ``tests/api/test_schemathesis.py`` (a few cases per operation) and ``benchmarks/api_fuzz.py`` (hundreds).
``run`` drives schemathesis' engine, as its CLI does (the phases: examples, coverage, fuzzing, stateful), and
tallies what it sent and what failed. (Its pytest integration, ``schemathesis.pytest.from_fixture``, needs a
pytest internal that pytest 9 no longer has.)

What keeps a run's findings about the API and not about the run itself:

- the agent and the admin log in before any fuzzing: the anonymous run's failed logins throttle the address they
  come from (127.0.0.1, like the run's own logins), and must not lock the run's accounts out;
- the logged-in runs leave out ``POST /api/auth/logout``: it ends the very session the run's token is;
- an admin operation on an account by name never targets the run's own accounts (disabling one, resetting its
  password or revoking its sessions would log the run out): a hook sends it to a throwaway account instead;
- the logged-in runs send their token as ``Authorization: Bearer`` and no generated credentials: a made-up
  session cookie on a POST without the server's ``Origin`` is refused (403) before the route is tried, which
  says nothing new; the anonymous run does send made-up tokens and cookies (they must get 401);
- schemathesis' automatic sign-up is off: it would create accounts and log in with made-up ones;
- a path's id is often a real one (conversations and messages customers wrote, a proposal, throwaway accounts),
  so that the handlers behind the lookup run, not only their 404.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis import BaseSchema, HookContext
from schemathesis.engine import events, from_schema

from bot.store.db import make_engine, migrate
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.wsclient import Customer

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "agent", "admin")
ACCOUNTS = {"agent": "fuzz-agent", "admin": "fuzz-admin"}  # the runs' own: never disabled, reset or revoked
THROWAWAYS = ("throwaway-1", "throwaway-2")  # what the admin run disables, resets and revokes instead
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance",
          # the stateful phase's: an account an admin created can be read. Not use_after_free: it takes
          # DELETE /api/admin/agents/{name}/sessions (revoke them all) for deleting the resource at that path, and
          # fails when GET on it then answers 200 with no sessions, as it should
          "ensure_resource_availability")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# ends the caller's own session: the logged-in runs leave it out (the anonymous run calls it, with made-up tokens)
LOGOUT = ("POST", "/api/auth/logout")
ACCOUNT_PATHS = "/api/admin/agents/{name}"


@dataclass
class Target:
    """A server to fuzz, its accounts' tokens, and real ids to put in paths."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token
    ids: dict[str, list[Any]] = field(default_factory=dict)  # path parameter -> real values

    def call(self, method: str, path: str, role: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)


def log_in(url: str, name: str) -> str:
    response = httpx.post(f"{url}/api/auth/login", json={"name": name, "password": PASSWORD}, timeout=60)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def say(customer: Customer, text: str) -> None:
    """Send a message and read until it is answered (a handoff's frames may come between)."""
    customer.send({"type": "message", "text": text, "id": f"c{time.monotonic_ns()}"})
    while customer.receive()["type"] not in ("reply.end", "message.received", "error"):
        pass


def prepare(url: str, ws_url: str, database_url: str) -> Target:
    """Create the run's accounts and log them in (before any fuzzing), and give the server conversations."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        accounts = Accounts(TranscriptStore(engine))
        accounts.add_agent(ACCOUNTS["admin"], PASSWORD, "admin", "Fuzz Admin")
        for name in (ACCOUNTS["agent"], *THROWAWAYS):
            accounts.add_agent(name, PASSWORD, "agent", name.capitalize())
    finally:
        engine.dispose()
    target = Target(url, {role: log_in(url, name) for role, name in ACCOUNTS.items()})
    conversations = []
    for question in ("How long does a refund take?", "I want to talk to a human", "Do you sell gift cards?"):
        with Customer.open(ws_url) as customer:
            say(customer, question)
            conversations.append(str(customer.session["conversation_id"]))
    assert target.call("POST", f"/api/agent/conversations/{conversations[1]}/accept", "agent").status_code == 200
    messages = [message for conversation in conversations
                for message in target.call("GET", f"/api/agent/conversations/{conversation}", "admin")
                .json()["messages"]]
    asked = [message["id"] for message in messages if message["role"] == "customer"]
    proposal = target.call("POST", "/api/agent/gaps/faq", "agent", json={
        "question": "Do you sell gift cards in every store?", "answer": "Yes, and online.", "message_ids": asked[-1:]})
    assert proposal.status_code == 202, proposal.text
    target.ids = {"conversation_id": conversations, "message_id": [message["id"] for message in messages],
                  "proposal_id": [proposal.json()["id"]], "name": list(THROWAWAYS)}
    return target


def config(target: Target, role: str, max_examples: int, phases: tuple[str, ...] = PHASES,
           workers: int = 1, shrink: bool = True) -> schemathesis.Config:
    """The run's configuration: the checks, how many cases, how it logs in, and whether a failing case is
    shrunk to its simplest (slow when there are many)."""
    token = target.tokens.get(role)
    return schemathesis.Config.from_dict({
        "base-url": target.url,
        "workers": workers,
        "request-timeout": 60,
        "generation": {"max-examples": max_examples, "database": "none", "no-shrink": not shrink,
                       "with-security-parameters": token is None},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {name: {"enabled": name in phases} for name in PHASES},
        # a header, not the schema's `bearer` scheme: a version from before the schemes is fuzzed the same way
        "headers": {"Authorization": f"Bearer {token}"} if token else {},
        "auth": {"auto-signup": False},
        "output": {"sanitization": {"enabled": False}},  # a failure's reproduction should carry the token
        "cache": {"enabled": False},  # each run starts afresh, and writes nothing in the repository
    })


def load(target: Target, role: str, max_examples: int, **options: Any) -> BaseSchema:
    """The server's /openapi.json, ready to fuzz as ``role``."""
    schema: BaseSchema = schemathesis.openapi.from_url(f"{target.url}/openapi.json",
                                                       config=config(target, role, max_examples, **options))
    if role != "anonymous":
        schema = schema.exclude(method=LOGOUT[0], path=LOGOUT[1])

    @schema.hook
    def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any]) -> st.SearchStrategy:
        """Half the time, a real id in place of the generated one."""
        assert context.operation is not None
        if not path_parameters:
            return st.just(path_parameters)
        known = {name: target.ids[name] for name in path_parameters if name in target.ids
                 and (name != "name" or context.operation.path.startswith(ACCOUNT_PATHS))}
        return st.fixed_dictionaries({
            name: st.one_of(st.just(value), st.sampled_from(known[name])) if name in known else st.just(value)
            for name, value in path_parameters.items()
        })

    return schema


@schemathesis.hook
def before_call(context: HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """Never act on the runs' own accounts, whichever phase chose the name (the stateful one takes names from
    listings). Schemathesis lets this hook be global only: it changes nothing outside those paths."""
    if case.operation.path.startswith(ACCOUNT_PATHS) and case.path_parameters.get("name") in ACCOUNTS.values():
        case.path_parameters["name"] = THROWAWAYS[0]


@dataclass
class Tally:
    """What one run sent, what came back, and what failed."""

    role: str
    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # check -> failing responses
    examples: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, check) -> what and how
    errors: list[str] = field(default_factory=list)  # what stopped an operation's tests (not the API's doing)
    links: int = 0  # links between operations the stateful phase inferred (and tests)
    seconds: float = 0.0

    def by_class(self) -> Counter[str]:
        """Responses by status class: 2xx, 4xx..."""
        classes: Counter[str] = Counter()
        for code, count in self.statuses.items():
            classes[f"{code // 100}xx"] += count
        return classes

    def report(self) -> str:
        """Every failure with one reproduction, and every error: what a failing test prints."""
        lines = [f"{key[0]}: {key[1]}\n{text}" for key, text in self.examples.items()]
        return "\n\n".join([*lines, *self.errors]) or "nothing failed"


def run(target: Target, role: str, max_examples: int, **options: Any) -> Tally:
    """Run schemathesis as ``role`` with every phase (or ``phases``) and tally it."""
    started = time.monotonic()
    schema = load(target, role, max_examples, **options)
    tally = Tally(role, operations=sum(1 for _ in schema.get_all_operations()))
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted) and event.payload is not None:
            tally.links = event.payload.transitions_selected
        elif isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                tally.requests += 1
                if interaction.response is not None:
                    tally.statuses[interaction.response.status_code] += 1
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        tally.failures[check.name] += 1
                        failure = check.failure_info.failure
                        tally.examples.setdefault((recorder.label, check.name), f"{failure.title}: {failure.message}"
                                                                               f"\n{check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            tally.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            tally.errors.append(f"fatal: {event.exception!r}")
    tally.seconds = time.monotonic() - started
    return tally
