"""The servers under load, as subprocesses: a real ``helpline serve`` over a prepared data dir, and the echo baseline.

Readiness is polled (``/health`` for Helpline, a WebSocket handshake for the echo server) with a deadline and the
server's log in the error; a ``Monitor`` samples the server's CPU and memory while a load runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
from websockets.asyncio.client import connect

from training.registry import ModelRegistry

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
READY_TIMEOUT_S = 240.0  # model and index loading on a busy 2-core machine
# a prepared demo data dir kept between runs (trained once by `helpline setup`), never the user's ./var
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "helpline" / "e2e-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepared_source(explicit: Path | None = None) -> Path:
    """A data dir with the demo company and a trained model: ``explicit``, else ./var, else the bench cache.

    The cache is brought up to date with ``helpline setup`` (which trains the demo model on its first run only).
    """
    for candidate in (explicit, ROOT / "var"):
        if candidate is not None and ModelRegistry(candidate / "models").current() is not None \
                and (candidate / "faq").is_dir():
            return candidate
    if explicit is not None:
        raise FileNotFoundError(f"{explicit} has no served model or FAQ; run `helpline setup` there first")
    print(f"preparing the demo data dir in {CACHE} with `helpline setup` (first run trains the model)…",
          file=sys.stderr, flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("HELPLINE_DATABASE_URL", "HELPLINE_MODEL_DIR")}
    env.update(HELPLINE_DATA_DIR=str(CACHE), HELPLINE_SEED_DIR=str(CACHE / "seed"))
    subprocess.run([str(BIN / "helpline"), "setup", "--company", str(ROOT / "demo")], check=True, cwd=ROOT,
                   env=env, stdout=sys.stderr)
    return CACHE


def copy_data_dir(source: Path, target: Path) -> Path:
    """A private copy of ``source``: company replies, FAQ index and the current model (hard-linked), no database."""
    target.mkdir(parents=True)
    if (source / "company.json").exists():
        shutil.copyfile(source / "company.json", target / "company.json")
    shutil.copytree(source / "faq", target / "faq")
    if (source / "seed").is_dir():
        shutil.copytree(source / "seed", target / "seed")
    current = ModelRegistry(source / "models").current()
    assert current is not None
    registry = ModelRegistry(target / "models")
    registry.root.mkdir()

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another file system: copy instead
            shutil.copy2(src, dst)

    shutil.copytree(current, registry.root / current.name, copy_function=link)
    registry.promote(current.name)
    return target


@dataclass
class Server:
    name: str
    ws_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _spawn(name: str, argv: list[str], log: Path, env: dict[str, str], port: int, cwd: Path = ROOT) -> Server:
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
    return Server(name, f"ws://127.0.0.1:{port}/ws", process, log)


def start_helpline(data_dir: Path, database_url: str, log: Path, code: Path = ROOT, **extra_env: str) -> Server:
    """``helpline serve`` on a free port over ``data_dir``; returns once ``/health`` answers 200.

    ``code``: the source tree the server imports (another checkout or a ``git archive`` export, to measure
    another version with the same venv); by default this one. ``extra_env``: more settings.
    """
    port = free_port()
    env = {**os.environ, "HELPLINE_DATA_DIR": str(data_dir), "HELPLINE_DATABASE_URL": database_url,
           "HELPLINE_SEED_DIR": str(data_dir / "seed"), "PYTHONUNBUFFERED": "1", **LOAD_TEST_LIMITS, **extra_env}
    env.pop("HELPLINE_MODEL_DIR", None)
    if code.resolve() != ROOT:  # ahead of the editable install's finder, which points at this tree
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code.resolve()), env.get("PYTHONPATH")]))
    server = _spawn("helpline", [str(BIN / "helpline"), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--log-level", "warning"], log, env, port, cwd=code)
    url = f"http://127.0.0.1:{port}/health"
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"helpline serve exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return server
        except urllib.error.HTTPError as exc:  # 503 while loading
            last = f"{exc.code} {exc.read()[:200]!r}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"helpline not healthy after {READY_TIMEOUT_S:.0f} s (last: {last}):\n{server.log_tail()}")


# Every simulated customer connects from this machine's one address, and sends as fast as it is answered: the
# per-address and per-socket limits, meant for real visitors, are raised out of the way of the measurement.
LOAD_TEST_LIMITS = {
    "HELPLINE_CONNECTIONS_PER_MINUTE": "1000000", "HELPLINE_CONVERSATIONS_PER_MINUTE": "1000000",
    "HELPLINE_CONNECTIONS_PER_ADDRESS": "100000", "HELPLINE_MESSAGES_PER_MINUTE": "1000000",
}


def start_echo(log: Path) -> Server:
    """The echo baseline on a free port; returns once it completes a WebSocket handshake."""
    port = free_port()
    server = _spawn("echo", [sys.executable, "-m", "benchmarks.e2e.echo", "--port", str(port)], log,
                    {**os.environ, "PYTHONUNBUFFERED": "1"}, port)

    async def handshake() -> bool:
        with contextlib.suppress(OSError, TimeoutError):
            async with connect(server.ws_url, open_timeout=2) as ws:
                await ws.send('{"type": "start"}')
                await ws.recv()
                return True
        return False

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"echo server exited with {server.process.returncode}:\n{server.log_tail()}")
        if asyncio.run(handshake()):
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"echo server not answering after 60 s:\n{server.log_tail()}")


def code_version(code: Path) -> str:
    """``86ca9fd`` (``+ uncommitted changes``) for a git checkout, else the folder's name."""
    def git(*argv: str) -> str:
        done = subprocess.run(["git", "-C", str(code), *argv], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    if not (code / ".git").exists():
        return f"the tree in a folder named {code.name}"  # the name only: no machine path in the results
    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "api", "bot", "core", "retrieval",
                "training")
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


class Monitor:
    """CPU (cores used: CPU seconds over wall seconds) and peak RSS of a server process while a load runs."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.process = psutil.Process(pid)
        self.me = psutil.Process()
        self.interval = interval
        self.peak_rss = 0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            with contextlib.suppress(psutil.Error):
                self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self.peak_rss = self.process.memory_info().rss
        self._wall = time.perf_counter()
        self._cpu, self._client_cpu = cpu_seconds(self.process), cpu_seconds(self.me)
        psutil.cpu_percent()  # starts the machine-wide measurement
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> dict[str, float]:
        """Cores the server, this client and the whole machine used, the server's peak and final RSS (MB)."""
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        wall = time.perf_counter() - self._wall
        rss = self.process.memory_info().rss
        return {
            "server_cores": (cpu_seconds(self.process) - self._cpu) / wall,
            "client_cores": (cpu_seconds(self.me) - self._client_cpu) / wall,
            "machine_cores": psutil.cpu_percent() / 100 * (psutil.cpu_count() or 1),
            "peak_rss_mb": max(self.peak_rss, rss) / 2**20,
            "rss_mb": rss / 2**20,
        }


async def wait_idle(pid: int, below: float = 0.1, window: float = 1.0, timeout: float = 180.0) -> float:
    """Wait until the server uses under ``below`` cores over a ``window``; the seconds waited.

    After a load the server may still be finishing turns for customers who gave up; the next load starts
    only once it has, so no run pays for the previous one.
    """
    process, started = psutil.Process(pid), time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = cpu_seconds(process)
        await asyncio.sleep(window)
        if (cpu_seconds(process) - before) / window < below:
            break
    return time.perf_counter() - started
