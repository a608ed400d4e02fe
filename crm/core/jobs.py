"""What the background jobs (tier evaluations, risk scans) share: how a task runs one
part of a job (a chunk of customers, a rule), and how the job's follow-up (telling
people what it found) runs once the job is closed.

A part's work and its "done" mark are one transaction, so a task is safe to run again.
The task acknowledges late and is redelivered when its worker dies; a database hiccup
is retried with back-off; anything else, or the last retry, marks the whole job failed
(its parts already done stay done) and is raised for the worker's log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import OperationalError, transaction
from django.utils import timezone

T = TypeVar("T")

#: Beyond any id: the open end of a range of customers that covers them all.
LAST_ID = 2**62

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


def follow_up(task: Any, job_id: int, *, queued: bool) -> None:
    """Once the transaction that closes a job commits, run its follow-up ``task(job_id)``:
    queued as a task of its own when the job's parts run on the workers (``queued``), so
    the last part is done when its work is and a slow mail server holds up no worker of
    the job; here and now when the job runs in one process (a command's ``--sync``)."""
    if queued:
        transaction.on_commit(lambda: task.delay(job_id))
    else:
        transaction.on_commit(lambda: task(job_id))


def fail_job(job_model: Any, *, job_id: int, error: str) -> None:
    """Mark a job failed (it gave up after its retries); the parts it did stay done.  A job
    already done or failed is left as it is."""
    from .choices import ACTIVE_JOB_STATES, JobState

    job_model.objects.filter(pk=job_id, state__in=ACTIVE_JOB_STATES).update(
        state=JobState.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def fail_part(part_model: Any, *, part_id: int, error: str) -> None:
    """A part gave up after its retries: the job it belongs to (``part_model.job_field``)
    fails."""
    job_field = part_model._meta.get_field(part_model.job_field)
    job_id = part_model.objects.filter(pk=part_id).values_list(job_field.attname, flat=True).first()
    if job_id is not None:
        fail_job(job_field.related_model, job_id=job_id, error=error)


def part_settings(*, on_worker: bool) -> dict[str, str]:
    """The server settings of a job part's statements: no JIT (compiling these long
    statements costs more than it saves), room in memory for their hash tables, and, on a
    worker (``on_worker``), no parallel query: the job's parts on the other workers already
    keep the cores busy, and a statement spread over parallel processes only makes them
    take turns.  In one process (a command's ``--sync``) a statement may use them."""
    settings = {"jit": "off", "work_mem": "64MB"}
    if on_worker:
        settings["max_parallel_workers_per_gather"] = "0"
    return settings


@contextmanager
def local_settings(cursor: Any, **settings: str) -> Iterator[None]:
    """Server settings (``part_settings``) within the block only, then back to what they
    were: ``SET LOCAL`` alone would last until the end of a caller's transaction.  Call
    inside a transaction."""
    names = list(settings)

    def set_all(values: Any) -> None:
        pairs = [item for pair in zip(names, values, strict=True) for item in pair]
        cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)), pairs)

    cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
    before = cursor.fetchone()
    set_all(settings.values())
    yield
    # Not after an error: the transaction (or savepoint) rolls back, and the settings with it.
    set_all(before)
