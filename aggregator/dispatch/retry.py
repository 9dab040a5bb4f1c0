"""How the batch's jobs are retried: `RetryLater` is the task's own decision (a maintenance window, an open
circuit breaker, a backoff, another account); `ItemRetry` is the procrastinate retry strategy that honours it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision


class RetryLater(Exception):  # noqa: N818 - a decision, not an error
    """Run this job again in `delay` seconds (on the account `lock` names, when given)."""

    def __init__(self, delay: float, why: str, lock: str | None = None) -> None:
        super().__init__(f"retry in {delay:.1f} s: {why}")
        self.delay, self.lock = max(0.0, delay), lock


class ItemRetry(BaseRetryStrategy):
    """`RetryLater` is always honoured (the task itself counts attempts against `batch_max_attempts`); each
    retry goes one priority step down, so it waits behind its account's fresh jobs instead of holding them
    back (procrastinate runs a lock's jobs in priority, then id, order). Anything else is a bug or a
    database outage: retried a few times with backoff, then the job fails and the item is left for the next
    enqueue or the retry pass (which re-enqueue every unfinished item)."""

    unexpected_attempts = 3

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=exception.delay),
                                 priority=job.priority - 1, lock=exception.lock)
        if job.attempts >= self.unexpected_attempts:
            return None
        return RetryDecision(retry_in={"seconds": 5 * 2 ** job.attempts})
