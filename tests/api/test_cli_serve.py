"""`helpline serve --actions`: the action server starts before the server and stops with it, or serving is refused."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from bot.services.action_server import port_free
from tests.servers import ROOT, free_port


def wait_for(check: Callable[[], bool], seconds: float, what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"helpline serve exited with {process.returncode} before {what}"
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"no {what} after {seconds} s")


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)  # 503 counts: the server is up, its model (none here) is another matter
    except httpx.TransportError:
        return False
    return True


def action_servers(port: int) -> list[psutil.Process]:
    """Live rasa-sdk processes started for ``port``, workers included (they carry the same command line)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and "rasa_sdk" in process.cmdline() \
                    and str(port) in process.cmdline():
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


def group_alive(pgid: int) -> bool:
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return False


def serve(tmp_path: Path, port: int, actions_port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "HELPLINE_DATA_DIR": str(tmp_path / "var"),
           "HELPLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'helpline.db'}", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning",
         "--actions", "demo.actions", "--actions-port", str(actions_port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_action_server_runs_beside_the_server_and_stops_with_it(tmp_path: Path, stop_with: int) -> None:
    port, actions_port = free_port(), free_port()
    process = serve(tmp_path, port, actions_port)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/health"), 120, "server", process)
        actions = httpx.get(f"http://127.0.0.1:{actions_port}/actions", timeout=5).json()
        assert "action_order_status" in {action["name"] for action in actions}
        leader = min(action_servers(actions_port), key=lambda p: p.pid)
        pgid = os.getpgid(leader.pid)
        assert pgid == leader.pid != os.getpgid(process.pid)  # its own group, out of reach of a terminal's Ctrl-C
        process.send_signal(stop_with)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"action server: demo.actions on http://127.0.0.1:{actions_port}/webhook" in err
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (group_alive(pgid) or not port_free(actions_port)):
        time.sleep(0.05)
    assert not group_alive(pgid) and not action_servers(actions_port)
    assert port_free(actions_port)


def test_a_taken_action_port_is_a_clear_error_and_nothing_is_served(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        actions_port = taken.getsockname()[1]
        process = serve(tmp_path, port, actions_port)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    assert f"helpline: error: port {actions_port} on 127.0.0.1 is already in use" in err
    assert not answers(f"http://127.0.0.1:{port}/health")
