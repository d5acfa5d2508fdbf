"""Micro-batching on a few threads: requests from many callers queue per lane and run in small batches.

A turn asks for one prediction and writes two rows; a busy shop asks for hundreds at once. Run alone, each
wastes the matrix units (or a transaction) and, from many threads, oversubscribes the cores or fights for
the database lock. Here every caller's request joins a lane (one per model, or the writes); a worker thread
takes the lane whose oldest request has waited longest and runs up to ``max_batch`` of them in one call.
Requests that arrive while a call runs form the next batch. With more than one thread, different lanes run
at once (the classifier beside the encoder), never one lane twice: a model runs one batch at a time. Under
load (the lane's last batch had company) the worker also waits up to ``max_wait_s`` after the oldest request
arrived for more to join; an idle lane's lone request runs at once, so a quiet shop pays no wait for batching
it does not need. Each caller gets its own result; when a batch fails, only the callers in that batch see
the error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


class WorkerClosed(RuntimeError):
    """The worker was closed; no more requests are taken."""


@dataclass
class _Request(Generic[T, R]):
    item: T
    arrived: float
    future: Future[R] = field(default_factory=Future)


class Lane(Generic[T, R]):
    """One model's queue on the worker: ``run`` maps a batch of items to one result per item, in order."""

    def __init__(self, worker: BatchWorker, name: str, run: Callable[[list[T]], Sequence[R]]) -> None:
        self.worker, self.name, self.run = worker, name, run
        self.pending: deque[_Request[T, R]] = deque()
        self.last_batch = 0  # size of the lane's previous call: above one, company is worth waiting for
        self.running = False  # a thread is running one of its batches

    def submit(self, item: T) -> Future[R]:
        """Queue one item; its future holds the result (or the batch's error)."""
        return self.worker._submit(self, item)

    def map(self, items: Sequence[T]) -> list[R]:
        """Results for ``items``, in order (blocking: call it from a worker thread, never the event loop)."""
        futures = [self.submit(item) for item in items]
        return [future.result() for future in futures]


class BatchWorker:
    """The threads (``threads``, one by default) that run every call of its lanes, in micro-batches of at most
    ``max_batch``."""

    def __init__(self, max_batch: int = 64, max_wait_s: float = 0.002, name: str = "helpline-batches",
                 on_start: Callable[[], None] | None = None, threads: int = 1) -> None:
        if max_batch < 1 or max_wait_s < 0 or threads < 1:
            raise ValueError("max_batch and threads must be >= 1 and max_wait_s >= 0")
        self.max_batch, self.max_wait_s, self._on_start = max_batch, max_wait_s, on_start
        self.lanes: list[Lane[Any, Any]] = []
        self.batches = 0  # how many model calls ran, and over how many items: the mean batch size
        self.items = 0
        self._wake = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{n}" if threads > 1 else name, daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def lane(self, name: str, run: Callable[[list[T]], Sequence[R]]) -> Lane[T, R]:
        """A new queue on this worker for one model's batched call."""
        lane: Lane[T, R] = Lane(self, name, run)
        with self._wake:
            self.lanes.append(lane)
        return lane

    def close(self) -> None:
        """Stop taking requests; what is queued still runs; waits for the threads to finish."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()

    def _submit(self, lane: Lane[T, R], item: T) -> Future[R]:
        request: _Request[T, R] = _Request(item, time.monotonic())
        with self._wake:
            if self._closed:
                raise WorkerClosed("the batch worker is closed")
            lane.pending.append(request)
            self._wake.notify_all()  # any idle thread may take it, not only one waiting out another lane's wait
        return request.future

    def _loop(self) -> None:
        if self._on_start is not None:  # e.g. how many threads the models compute on, set on this thread
            self._on_start()
        while True:
            taken = self._next_batch()
            if taken is None:
                return
            lane, batch = taken
            self._run(lane, batch)

    def _next_batch(self) -> tuple[Lane[Any, Any], list[_Request[Any, Any]]] | None:
        with self._wake:
            while True:
                waiting = [lane for lane in self.lanes if lane.pending and not lane.running]
                if not waiting:
                    if self._closed and not any(lane.pending for lane in self.lanes):
                        return None
                    self._wake.wait()  # for a request, or for a running lane with more queued to finish
                    continue
                lane = min(waiting, key=lambda candidate: candidate.pending[0].arrived)
                deadline = lane.pending[0].arrived + (self.max_wait_s if lane.last_batch > 1 else 0.0)
                remaining = deadline - time.monotonic()
                if len(lane.pending) >= self.max_batch or remaining <= 0 or self._closed:
                    size = min(self.max_batch, len(lane.pending))
                    lane.last_batch, lane.running = size, True
                    return lane, [lane.pending.popleft() for _ in range(size)]
                self._wake.wait(remaining)  # more may join; re-check which lane is oldest after

    def _run(self, lane: Lane[Any, Any], batch: list[_Request[Any, Any]]) -> None:
        try:
            done = self._call(lane, batch)
        finally:
            with self._wake:
                lane.running = False
                self.batches += int(done > 0)
                self.items += done
                self._wake.notify_all()

    def _call(self, lane: Lane[Any, Any], batch: list[_Request[Any, Any]]) -> int:
        """Run one batch and settle its futures; how many items it answered."""
        live = [request for request in batch if request.future.set_running_or_notify_cancel()]
        if not live:
            return 0
        try:
            results = list(lane.run([request.item for request in live]))
            if len(results) != len(live):
                raise RuntimeError(f"{lane.name} gave {len(results)} results for {len(live)} inputs")
        except Exception as exc:  # only this batch's callers see it; the worker keeps serving
            log.exception("%s batch of %d failed", lane.name, len(live))
            for request in live:
                request.future.set_exception(exc)
            return 0
        for request, result in zip(live, results, strict=True):
            request.future.set_result(result)
        return len(live)
