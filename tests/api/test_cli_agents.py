"""`helpline agents add`, run as a subprocess: the password from standard input or from a terminal prompt."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

from bot.services.database import open_store
from bot.settings import Settings
from bot.workspace.accounts import Accounts, InvalidCredentials
from tests.cli import HELPLINE, ROOT

PASSWORD = "correct horse battery"


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


def run_in_terminal(tmp_path: Path, name: str, answers: list[str]) -> tuple[int, str]:
    """Run `helpline agents add NAME` on a pseudo-terminal, typing ``answers`` at its prompts."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty, so getpass prompts on it
        os.chdir(ROOT)
        os.environ["HELPLINE_DATA_DIR"] = str(tmp_path)
        os.execv(str(HELPLINE), [str(HELPLINE), "agents", "add", name])
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
