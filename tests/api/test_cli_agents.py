"""`helpline agents …`, run as a subprocess: accounts added, listed, disabled and enabled, passwords reset (from
standard input or a terminal prompt) and sessions revoked; a live server's sockets close at their next check."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bot.services.database import open_store
from bot.settings import Settings
from bot.store.tokens import hash_token
from bot.workspace.accounts import Accounts, InvalidCredentials, InvalidSession
from tests.api.wsclient import open_agent_socket, still_open, until_closed
from tests.cli import HELPLINE, ROOT
from tests.servers import add_agents, start_server, stop_server

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def add_agent(tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELPLINE_DATA_DIR": str(tmp_path)}
    return subprocess.run([str(HELPLINE), "agents", "add", *args], input=stdin, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def accounts(tmp_path: Path) -> Accounts:
    return Accounts(open_store(Settings(data_dir=tmp_path)))


def test_add_reads_the_password_from_stdin_and_the_agent_can_log_in(tmp_path: Path) -> None:
    result = add_agent(tmp_path, "maya", "--role", "admin", "--display-name", "Maya K", stdin=f"{PASSWORD}\nignored\n")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["name"] == "maya" and printed["role"] == "admin" and printed["display_name"] == "Maya K"
    assert PASSWORD not in result.stdout + result.stderr
    _, agent = accounts(tmp_path).login("maya", PASSWORD)
    assert agent.role == "admin"


def test_add_refuses_short_passwords_duplicates_and_bad_roles(tmp_path: Path) -> None:
    short = add_agent(tmp_path, "sam", stdin="1234567\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert add_agent(tmp_path, "sam", stdin="\n").returncode == 2
    assert accounts(tmp_path).list_agents() == []
    assert add_agent(tmp_path, "sam", stdin=f"{PASSWORD}\n").returncode == 0
    again = add_agent(tmp_path, "sam", stdin=f"{PASSWORD}\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert add_agent(tmp_path, "kim", "--role", "owner", stdin=f"{PASSWORD}\n").returncode == 2
    assert [a["role"] for a in accounts(tmp_path).list_agents()] == ["agent"]


def run_in_terminal(tmp_path: Path, name: str, answers: list[str], command: str = "add") -> tuple[int, str]:
    """Run `helpline agents COMMAND NAME` on a pseudo-terminal, typing ``answers`` at its prompts."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, so getpass prompts on it
        os.chdir(ROOT)
        os.environ["HELPLINE_DATA_DIR"] = str(tmp_path)
        os.execv(str(HELPLINE), [str(HELPLINE), "agents", command, name])
    output, pending = b"", list(answers)
    deadline = time.monotonic() + 120
    while True:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            os.kill(pid, signal.SIGKILL)  # stuck at a prompt: fail instead of hanging
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child exited and closed the terminal
            break
        if not chunk:
            break
        output += chunk
        prompts = output.count(b"assword: ")
        if pending and prompts > len(answers) - len(pending):  # answer each prompt once, after it appears
            os.write(fd, pending.pop(0).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_add_prompts_twice_on_a_terminal(tmp_path: Path) -> None:
    code, output = run_in_terminal(tmp_path, "lee", [PASSWORD, PASSWORD])
    assert code == 0, output
    assert "Password:" in output and "Repeat the password:" in output and PASSWORD not in output  # not echoed
    accounts(tmp_path).login("lee", PASSWORD)
    code, output = run_in_terminal(tmp_path, "kim", [PASSWORD, "something else"])
    assert code == 2 and "do not match" in output
    try:
        accounts(tmp_path).login("kim", PASSWORD)
    except InvalidCredentials:
        pass
    else:
        raise AssertionError("kim was created although the passwords differed")


# what admins do: list, disable and enable, reset a password, revoke and list sessions ----------------------------


def agents_cli(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "HELPLINE_DATA_DIR": str(tmp_path), **env}
    environ.pop("HELPLINE_REDIS_URL", None)  # the command line on its own, as without Redis
    environ.update(env)
    return subprocess.run([str(HELPLINE), "agents", *args], input=stdin, cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def logged_in(accounts: Accounts, token: str) -> bool:
    try:
        accounts.agent_for_token(token)
    except InvalidSession:
        return False
    return True


def test_disable_enable_list_and_sessions_from_the_command_line(tmp_path: Path) -> None:
    store = accounts(tmp_path)
    store.add_agent("root", PASSWORD, "admin", "Ada")
    store.add_agent("maya", PASSWORD, "agent", "Maya")
    tokens = [store.login("maya", PASSWORD)[0] for _ in range(2)]

    sessions = agents_cli(tmp_path, "sessions", "maya")
    assert sessions.returncode == 0, sessions.stderr
    listed = json.loads(sessions.stdout.splitlines()[-1])
    assert listed["name"] == "maya" and len(listed["sessions"]) == 2
    assert not any(t in sessions.stdout or hash_token(t) in sessions.stdout for t in tokens)

    disabled = agents_cli(tmp_path, "disable", "maya")
    assert disabled.returncode == 0, disabled.stderr
    assert "maya is disabled; 2 sessions ended" in disabled.stdout
    assert json.loads(disabled.stdout.splitlines()[-1])["agent"]["disabled"] is True
    assert "account change: the command line disabled agent 'maya'; 2 sessions ended" in disabled.stderr
    assert not any(logged_in(store, t) for t in tokens)
    with pytest.raises(InvalidCredentials):
        store.login("maya", PASSWORD)
    shown = agents_cli(tmp_path, "list")
    assert shown.returncode == 0 and "disabled" in shown.stdout
    rows = {a["name"]: a for a in json.loads(shown.stdout.splitlines()[-1])["agents"]}
    assert (rows["maya"]["disabled"], rows["root"]["disabled"], rows["root"]["role"]) == (True, False, "admin")

    enabled = agents_cli(tmp_path, "enable", "maya")
    assert enabled.returncode == 0 and json.loads(enabled.stdout.splitlines()[-1])["agent"]["disabled"] is False
    assert store.login("maya", PASSWORD)[1].name == "maya"


def test_reset_password_and_revoke_from_the_command_line(tmp_path: Path) -> None:
    store = accounts(tmp_path)
    store.add_agent("maya", PASSWORD, "agent", "Maya")
    old = store.login("maya", PASSWORD)[0]

    short = agents_cli(tmp_path, "reset-password", "maya", stdin="1234567\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert logged_in(store, old)  # a refused reset changes nothing

    reset = agents_cli(tmp_path, "reset-password", "maya", stdin=f"{NEW_PASSWORD}\n")
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout.splitlines()[-1])["revoked"] == 1
    assert NEW_PASSWORD not in reset.stdout + reset.stderr
    assert not logged_in(store, old)
    with pytest.raises(InvalidCredentials):
        store.login("maya", PASSWORD)
    tokens = [store.login("maya", NEW_PASSWORD)[0] for _ in range(3)]

    revoked = agents_cli(tmp_path, "revoke", "maya")
    assert revoked.returncode == 0, revoked.stderr
    assert "maya is logged out everywhere; 3 sessions ended" in revoked.stdout
    assert not any(logged_in(store, t) for t in tokens)
    assert store.login("maya", NEW_PASSWORD)[1].name == "maya"  # revoked, not disabled

    code, output = run_in_terminal(tmp_path, "maya", [PASSWORD, PASSWORD], command="reset-password")
    assert code == 0, output
    assert "Repeat the password:" in output and PASSWORD not in output
    store.login("maya", PASSWORD)
    code, output = run_in_terminal(tmp_path, "maya", [NEW_PASSWORD, "something else"], command="reset-password")
    assert code == 2 and "do not match" in output
    store.login("maya", PASSWORD)  # unchanged


def test_the_command_line_keeps_one_admin_and_refuses_unknown_names(tmp_path: Path) -> None:
    store = accounts(tmp_path)
    store.add_agent("root", PASSWORD, "admin", "Ada")
    last = agents_cli(tmp_path, "disable", "root")
    assert last.returncode == 2 and "last enabled admin" in last.stderr
    assert store.login("root", PASSWORD)[1].name == "root"
    for command in ("disable", "enable", "revoke", "sessions"):
        unknown = agents_cli(tmp_path, command, "nobody")
        assert unknown.returncode == 2 and "no agent named 'nobody'" in unknown.stderr, command
    unknown = agents_cli(tmp_path, "reset-password", "nobody", stdin=f"{NEW_PASSWORD}\n")
    assert unknown.returncode == 2 and "no agent named 'nobody'" in unknown.stderr


def test_a_change_from_the_command_line_closes_the_sockets_at_the_next_check(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    """The command line cannot reach the server's in-process bus: the socket's periodic check finds the change."""
    database = f"sqlite:///{tmp_path / 'helpline.db'}"
    server = start_server(demo_data_dir, database, tmp_path / "server.log", HELPLINE_SESSION_CHECK_SECONDS="1")
    try:
        add_agents(database, PASSWORD, "maya", "sam")
        login = {name: httpx.post(f"{server.url}/api/auth/login", json={"name": name, "password": PASSWORD},
                                  timeout=30).json()["token"] for name in ("maya", "sam")}
        for command, stdin in (("revoke", ""), ("reset-password", f"{NEW_PASSWORD}\n"), ("disable", "")):
            with open_agent_socket(server.url, login["maya"]) as maya, \
                    open_agent_socket(server.url, login["sam"]) as sam:
                changed = agents_cli(tmp_path, command, "maya", stdin=stdin, HELPLINE_DATABASE_URL=database)
                assert changed.returncode == 0, changed.stderr

                code, frames = until_closed(maya, 15)
                assert code == 4401 and frames[-1]["code"] == "session_ended", (command, code, frames)
                assert still_open(sam)
            if command != "disable":
                password = NEW_PASSWORD if command == "reset-password" else PASSWORD
                login["maya"] = httpx.post(f"{server.url}/api/auth/login", timeout=30,
                                           json={"name": "maya", "password": password}).json()["token"]
    finally:
        stop_server(server)
