"""Where the server's time goes during one load: py-spy samples of its Python threads, CPU time of every thread.

py-spy (``record --format raw --threads --nolineno --nonblocking``: the server is not paused per sample) sees
Python frames only, so time in torch's kernels is charged to the Python frame that called them. Threads that run
no Python at all (torch's intra-op pool, tokenizers) are invisible to it; their CPU time is read per thread from
``/proc`` (psutil) and reported beside the samples.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

TOP = 15
THREAD = re.compile(r"thread \((\d+)\)(?::\s*(.*))?")
OWN_PACKAGES = {"api", "bot", "core", "retrieval", "training"}
# thread starts and event-loop plumbing: on every stack of their thread, they say nothing about where time goes
ENTRY_FRAMES = {
    "<module>", "main", "run", "_bootstrap", "_bootstrap_inner", "run_forever", "run_until_complete",
    "_run_once", "_run", "Runner.run", "Thread.run", "Thread._bootstrap", "Thread._bootstrap_inner",
    "BaseEventLoop.run_forever", "BaseEventLoop.run_until_complete", "BaseEventLoop._run_once", "Handle._run",
    "WorkerThread.run", "Server.run", "Server.serve", "Server._serve", "cmd_serve",
}

# blocking waits py-spy's idle detection misses (the event loop's epoll, an idle worker's queue): not CPU time
WAIT_FRAMES = {"EpollSelector.select", "Condition.wait", "Event.wait", "Thread.join", "Thread._wait_for_tstate_lock",
               "SimpleQueue.get", "Queue.get"}


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise FileNotFoundError("py-spy not found; install it into .venv (pip install py-spy) to use --profile")
    return found


@dataclass
class Profile:
    samples: int
    own: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    packages: Counter[str] = field(default_factory=Counter)  # own time by the leaf frame's package
    ours: Counter[str] = field(default_factory=Counter)  # each sample charged to its innermost Helpline frame
    waiting: int = 0  # samples left out: the thread was blocked in a wait (WAIT_FRAMES)
    by_thread: Counter[str] = field(default_factory=Counter)  # samples per thread group
    thread_cores: dict[str, float] = field(default_factory=dict)  # CPU cores per thread group (from /proc)
    profiler_cores: float = 0.0
    seconds: float = 0.0


def thread_group(name: str | None, tid: int, pid: int) -> str:
    if tid == pid or name == "MainThread":
        return "event loop (main thread)"
    if name and name.startswith("AnyIO worker thread"):
        return "AnyIO worker threads (turns, DB calls)"
    if name:
        return f"thread {re.sub(r'[-_]?[0-9]+', '', name).strip() or name}"
    return "other Python threads"


def package(frame: str) -> str:
    """``forward (torch/nn/modules/linear.py)`` -> ``torch``; Helpline's own folders keep their name with a slash."""
    match = re.search(r"\(([^()]*)\)$", frame)
    path = match.group(1) if match else frame
    head = path.split("/")[0].removesuffix(".py")
    if head in OWN_PACKAGES:
        return f"helpline {head}/"
    return head or "?"


def is_ours(frame: str) -> bool:
    return package(frame).startswith("helpline ")


def function(frame: str) -> str:
    return frame.split(" (", 1)[0]


def parse(raw: str, pid: int) -> Profile:
    """Fold py-spy's raw output (``frame;frame;… count`` per line) into own and total counts."""
    profile = Profile(0)
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        match = THREAD.match(frames[0])
        if match:
            frames = frames[1:]
        if not frames:
            continue
        if function(frames[-1]) in WAIT_FRAMES:
            profile.waiting += count
            continue
        group = thread_group(match.group(2), int(match.group(1)), pid) if match else "other Python threads"
        profile.by_thread[group] += count
        profile.samples += count
        profile.own[frames[-1]] += count
        profile.packages[package(frames[-1])] += count
        innermost = next((f for f in reversed(frames) if is_ours(f)), None)
        if innermost is None or function(innermost) == "cmd_serve":  # only `helpline serve` itself: the server stack
            innermost = "(uvicorn, starlette, websockets, asyncio: no Helpline handler on the stack)"
        profile.ours[innermost] += count
        for frame in set(frames):
            if function(frame) not in ENTRY_FRAMES:
                profile.total[frame] += count
    return profile


class Profiler:
    """py-spy attached to ``pid`` from ``start`` to ``stop``, and per-thread CPU over the same span."""

    def __init__(self, pid: int, out: Path, rate: int = 100) -> None:
        self.pid, self.out, self.rate = pid, out, rate
        self.process = psutil.Process(pid)

    def _thread_cpu(self) -> dict[int, float]:
        return {t.id: t.user_time + t.system_time for t in self.process.threads()}

    def start(self) -> None:
        self._before = self._thread_cpu()
        self._started = time.perf_counter()
        self._spy = subprocess.Popen(
            [py_spy(), "record", "--pid", str(self.pid), "--rate", str(self.rate), "--format", "raw",
             "--threads", "--nolineno", "--nonblocking", "-o", str(self.out)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self._spy_process = psutil.Process(self._spy.pid)

    def stop(self) -> Profile:
        seconds = time.perf_counter() - self._started
        after = self._thread_cpu()
        try:
            times = self._spy_process.cpu_times()
            spy_cpu = times.user + times.system
        except psutil.Error:
            spy_cpu = 0.0
        self._spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        output, _ = self._spy.communicate(timeout=60)
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote nothing (exit {self._spy.returncode}): {output.decode()[-2000:]}")
        profile = parse(self.out.read_text(), self.pid)
        profile.seconds, profile.profiler_cores = seconds, spy_cpu / seconds
        names: dict[int, str] = {}  # tid -> group, from the threads py-spy saw
        for line in self.out.read_text().splitlines():
            match = THREAD.match(line.split(";", 1)[0])
            if match:
                names[int(match.group(1))] = thread_group(match.group(2), int(match.group(1)), self.pid)
        cores: dict[str, float] = {}
        for tid, cpu in after.items():
            group = names.get(tid, "event loop (main thread)" if tid == self.pid
                              else "threads running no Python (torch intra-op pool, tokenizers, …)")
            cores[group] = cores.get(group, 0.0) + (cpu - self._before.get(tid, 0.0)) / seconds
        profile.thread_cores = dict(sorted(cores.items(), key=lambda item: -item[1]))
        return profile
