"""The inference worker: every caller gets its own answer, waits are bounded, a failed batch fails only its callers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from core.batching import BatchWorker, WorkerClosed


@pytest.fixture
def worker() -> Iterator[BatchWorker]:
    running = BatchWorker(max_batch=16, max_wait_s=0.005)
    yield running
    running.close()


class Gate:
    """A batch function that records its batches and, until opened, holds the first one (so others queue)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.opened = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.started.set()
        self.opened.wait(10)
        if any(item < 0 for item in items):
            raise ValueError(f"negative input in {items}")
        return [item * 10 for item in items]


def test_concurrent_callers_each_get_their_own_result(worker: BatchWorker) -> None:
    lane = worker.lane("times ten", lambda items: [item * 10 for item in items])
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda n: lane.map([n, n + 1000]), range(200)))
    assert results == [[n * 10, (n + 1000) * 10] for n in range(200)]
    assert worker.items == 400


def test_requests_that_queue_while_a_batch_runs_share_the_next_call(worker: BatchWorker) -> None:
    gate = Gate()
    lane = worker.lane("gated", gate)
    first = lane.submit(1)
    assert gate.started.wait(10)
    later = [lane.submit(n) for n in range(2, 12)]  # arrive in this order while the first batch runs
    gate.opened.set()
    assert first.result(10) == 10
    assert [future.result(10) for future in later] == [n * 10 for n in range(2, 12)]
    assert gate.batches == [[1], list(range(2, 12))]


def test_no_batch_is_larger_than_the_maximum(worker: BatchWorker) -> None:
    gate = Gate()
    lane = worker.lane("gated", gate)
    lane.submit(0)
    assert gate.started.wait(10)
    futures = [lane.submit(n) for n in range(1, 41)]
    gate.opened.set()
    wait(futures, timeout=10)
    assert [len(batch) for batch in gate.batches] == [1, 16, 16, 8]


def test_a_lone_request_on_an_idle_lane_does_not_wait_for_company() -> None:
    patient = BatchWorker(max_batch=1000, max_wait_s=30.0)  # a wait no test would sit through
    try:
        lane = patient.lane("echo", lambda items: items)
        assert lane.submit("alone").result(timeout=10) == "alone"  # long before the 30 s wait would end
    finally:
        patient.close()


def test_under_load_a_lone_request_waits_for_company_but_only_so_long() -> None:
    patient = BatchWorker(max_batch=1000, max_wait_s=0.2)
    gate = Gate()
    try:
        lane = patient.lane("gated", gate)
        lane.submit(0)
        assert gate.started.wait(10)
        queued = [lane.submit(n) for n in (1, 2)]  # a busy lane: its next batch has company
        gate.opened.set()
        wait(queued, timeout=10)
        first = lane.submit(3)  # now it waits (at most 0.2 s) for more to join it
        second = lane.submit(4)
        assert (first.result(timeout=10), second.result(timeout=10)) == (30, 40)
        assert gate.batches[-1] == [3, 4]  # they shared one call
    finally:
        patient.close()


def test_a_failed_batch_fails_only_its_own_callers(worker: BatchWorker) -> None:
    gate = Gate()
    lane = worker.lane("gated", gate)
    lane.submit(0)
    assert gate.started.wait(10)
    doomed = [lane.submit(n) for n in (1, -2, 3)]  # one bad input: this whole batch fails
    gate.opened.set()
    for future in doomed:
        with pytest.raises(ValueError, match="negative input"):
            future.result(10)
    assert lane.map([4, 5]) == [40, 50]  # the worker keeps serving


def test_a_wrong_number_of_results_is_an_error_not_a_mixup(worker: BatchWorker) -> None:
    lane = worker.lane("drops one", lambda items: items[1:])
    with pytest.raises(RuntimeError, match="0 results for 1 inputs"):
        lane.map(["x"])


def test_lanes_take_turns_by_the_oldest_request(worker: BatchWorker) -> None:
    words = worker.lane("upper", lambda items: [item.upper() for item in items])
    numbers = worker.lane("negate", lambda items: [-item for item in items])
    with ThreadPoolExecutor(8) as pool:
        upper = pool.submit(lambda: [words.map([f"w{n}"]) for n in range(50)])
        negated = pool.submit(lambda: [numbers.map([n]) for n in range(50)])
        assert upper.result(10) == [[f"W{n}"] for n in range(50)]
        assert negated.result(10) == [[-n] for n in range(50)]


def test_a_closed_worker_refuses_new_work_after_finishing_what_it_has() -> None:
    closing = BatchWorker(max_batch=4, max_wait_s=0.5)
    lane = closing.lane("echo", lambda items: items)
    queued = lane.submit("queued")
    closing.close()
    assert queued.result(5) == "queued"
    with pytest.raises(WorkerClosed):
        lane.submit("late")


class Overlap:
    """A batch function that counts how many of its calls run at once. Each call waits a moment for another to
    join it (a second call sets ``company`` at once), so calls that could overlap do."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self.lock = threading.Lock()
        self.company = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            if self.running > 1:
                self.company.set()
        self.company.wait(0.05)  # proving an absence needs some wait; with an overlap it ends at once
        with self.lock:
            self.running -= 1
        return items


def test_with_two_threads_two_lanes_run_side_by_side() -> None:
    pair = BatchWorker(max_batch=4, max_wait_s=0.0, threads=2)
    try:
        held = Gate()
        slow = pair.lane("held", held)
        fast = pair.lane("free", lambda items: [-item for item in items])
        blocked = slow.submit(1)
        assert held.started.wait(10)
        assert fast.submit(2).result(timeout=10) == -2  # answered while the other lane's call still runs
        assert not blocked.done()
        held.opened.set()
        assert blocked.result(timeout=10) == 10
    finally:
        pair.close()


def test_however_many_threads_a_lane_runs_one_call_at_a_time() -> None:
    many = BatchWorker(max_batch=2, max_wait_s=0.0, threads=4)
    overlap = Overlap()
    try:
        lane = many.lane("one model", overlap)
        futures = [lane.submit(n) for n in range(12)]
        assert [future.result(timeout=10) for future in futures] == list(range(12))
        assert overlap.most == 1
    finally:
        many.close()
