"""The action-server supervisor against a real rasa-sdk running the demo's actions: up, listed, stopped whole."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from bot.services.action_server import (
    ActionPortTaken,
    ActionServerFailed,
    port_free,
    start_action_server,
)
from tests.servers import ROOT, free_port


def group_members(pgid: int) -> list[psutil.Process]:
    """The live processes of a process group (zombies are dead, only not yet reaped)."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return found


def eventually(check: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_the_demo_action_server_starts_lists_its_actions_and_stops_with_all_its_processes(tmp_path: Path) -> None:
    port = free_port()
    server = start_action_server("demo.actions", tmp_path / "actions.log", os.environ, port=port, cwd=ROOT)
    try:
        assert server.url == f"http://127.0.0.1:{port}/webhook"
        actions = httpx.get(f"http://127.0.0.1:{port}/actions", timeout=5).json()
        assert "action_order_status" in {action["name"] for action in actions}
        assert not port_free(port)
        members = group_members(server.pgid)
        assert len(members) >= 2, members  # the Sanic manager and its worker(s): why it is stopped as a group
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert eventually(lambda: not group_members(server.pgid)), group_members(server.pgid)
    assert eventually(lambda: port_free(port))
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ActionPortTaken, match=f"port {port} on 127.0.0.1 is already in use"):
            start_action_server("demo.actions", tmp_path / "actions.log", os.environ, port=port, cwd=ROOT)
    assert not (tmp_path / "actions.log").exists()


def test_a_server_that_exits_is_an_error_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(ActionServerFailed, match=r"(?s)exited with .*No module named 'no_such_actions'"):
        start_action_server("no_such_actions", tmp_path / "actions.log", os.environ, port=free_port(), cwd=ROOT)

