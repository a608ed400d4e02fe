"""What the background jobs (tier evaluations, risk scans) share: how a task runs one
part of a job (a chunk of customers, a rule).

A part's work and its "done" mark are one transaction, so a task is safe to run again.
The task acknowledges late and is redelivered when its worker dies; a database hiccup
is retried with back-off; anything else, or the last retry, marks the whole job failed
(its parts already done stay done) and is raised for the worker's log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError

T = TypeVar("T")

#: The options of every task that runs one part of a job.
PART_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


def run_part(task: Any, work: Callable[[], T], fail: Callable[[str], None], label: str) -> T:
    """Run ``work``; if it fails for good, call ``fail`` with what went wrong, then raise."""
    try:
        return work()
    except Exception as exc:
        if isinstance(exc, OperationalError) and task.request.retries < task.max_retries:
            raise
        fail(f"{label}: {exc!r}")
        raise
