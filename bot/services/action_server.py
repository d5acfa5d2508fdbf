"""A rasa-sdk action server in a process group of its own: started beside `helpline serve`, stopped with it.

rasa-sdk runs as any Rasa team runs it (``python -m rasa_sdk --actions PACKAGE --port PORT``) on 127.0.0.1:
it has no host flag and binds every address unless ``SANIC_HOST`` says otherwise. It is a Sanic manager with
worker processes, so it is stopped by its process group (SIGTERM, then SIGKILL after a grace period), never by
its main process alone. The environment is handed in: only the settings and the entry point read it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
DEFAULT_PORT = 5055  # Rasa's own default, and the demo's endpoints.yml
START_TIMEOUT_S = 60.0  # importing rasa-sdk and the actions takes a few seconds on two busy cores
STOP_GRACE_S = 10.0
POLL_S = 0.1
LOG_TAIL_CHARS = 4000


class ActionServerFailed(RuntimeError):
    """The action server could not start: it exited, or did not answer ``/health`` in time (its log's tail)."""


class ActionPortTaken(ActionServerFailed):
    """Something already listens on the port the action server was to use."""


@dataclass
class ActionServerProcess:
    """A running rasa-sdk action server; ``stop()`` ends its whole process group."""

    package: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """The webhook, as an ``endpoints.yml`` names it."""
        return f"http://{HOST}:{self.port}/webhook"

    @property
    def pgid(self) -> int:
        return self.process.pid  # started with start_new_session: it leads its own group

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Return once ``GET /health`` answers 200; ``ActionServerFailed`` if it exits first or time runs out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ActionServerFailed(f"the action server ({self.package}) exited with {self.process.returncode} "
                                         f"before answering:\n{self.log_tail()}")
            try:
                if httpx.get(f"http://{HOST}:{self.port}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_S)
        raise ActionServerFailed(f"the action server ({self.package}) did not answer on port {self.port} within "
                                 f"{timeout_s:g} s:\n{self.log_tail()}")

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM to the process group; SIGKILL to it if any of it is left after ``grace_s``."""
        try:
            os.killpg(self.pgid, signal.SIGTERM)
        except ProcessLookupError:  # the whole group has gone already
            self.process.wait()
            return
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            self.process.poll()  # reap the main process, which else stays in the group as a zombie
            if not group_alive(self.pgid):
                return
            time.sleep(POLL_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        except OSError as exc:
            return f"(no log: {exc})"


def start_action_server(package: str, log: Path, env: Mapping[str, str], port: int = DEFAULT_PORT,
                        cwd: Path | None = None, timeout_s: float = START_TIMEOUT_S) -> ActionServerProcess:
    """Start rasa-sdk with ``package``'s actions on 127.0.0.1:``port`` and return once it answers.

    ``cwd`` is where ``package`` can be imported from (default: the current directory); its output goes to
    ``log``. ``ActionPortTaken`` when the port is in use, ``ActionServerFailed`` when it does not come up
    (it is stopped then).
    """
    if not port_free(port):
        raise ActionPortTaken(f"port {port} on {HOST} is already in use, so the action server ({package}) cannot "
                              "start there: stop what listens on it, or choose another port")
    log.parent.mkdir(parents=True, exist_ok=True)
    environ = {**env, "SANIC_HOST": HOST, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", package, "--port", str(port)],
            cwd=cwd, env=environ, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, and Ctrl-C in a terminal skips it
        )
    server = ActionServerProcess(package, port, process, log)
    try:
        server.wait_healthy(timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


def port_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port`` now (as servers bind, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            sock.listen()
        except OSError:
            return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` is left (zombies included)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal: it exists
        return True
    return True
