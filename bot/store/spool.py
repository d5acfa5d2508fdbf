"""Group commit: the writes of concurrent turns share one transaction, and each stays all-or-nothing.

Every write is a job, a function of a session. One thread takes the jobs queued while the previous commit
ran and commits them together: one transaction and one lock on the database for a crowd of turns,
instead of one each fighting for the lock. A caller's ``run`` returns only after its job is committed, so
a message is acknowledged only once it is stored. When a batch fails, each of its jobs is committed again
alone, so only the job that broke it fails, with its own error, and none is half-written. A job's error is
raised to its caller, who knows whether it is expected (feedback on a reply that is not there) or a failure
to log: the writer thread logs none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core.batching import BatchWorker

R = TypeVar("R")
Job = Callable[[Session], Any]
MAX_BATCH = 256  # jobs per transaction; a batch is what queued during the last commit, up to this


@dataclass(frozen=True)
class _Failed:
    error: Exception


class WriteSpool:
    """The writer thread of one database: ``run(job)`` commits ``job`` with whatever else is queued."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        # no wait for company: a batch is whatever arrived while the previous one committed
        self.worker = BatchWorker(max_batch, 0.0, "helpline-writes")
        self._lane = self.worker.lane("writes", self._commit)

    def run(self, job: Callable[[Session], R]) -> R:
        """Commit ``job`` and return what it returned (blocking: never call it from the event loop)."""
        outcome = self._lane.submit(job).result()
        if isinstance(outcome, _Failed):
            raise outcome.error
        return outcome  # what this caller's job returned

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        self.worker.close()

    def _commit(self, jobs: list[Job]) -> list[Any]:
        if len(jobs) == 1:  # its error is its caller's, raised in the caller's thread (never logged as the writer's)
            return [self._alone(jobs[0])]
        try:
            with self._sessions() as session, session.begin():
                return [job(session) for job in jobs]
        except Exception:
            return [self._alone(job) for job in jobs]  # one of them broke the batch: find which

    def _alone(self, job: Job) -> Any:
        try:
            with self._sessions() as session, session.begin():
                return job(session)
        except Exception as exc:
            return _Failed(exc)
