"""What the background jobs (tier evaluations, risk scans) share: how a task runs one
part of a job (a chunk of customers, a rule), how the job is closed once its parts are
all done, how its follow-up (notifying people of what it found) runs, and how a job
whose worker died is rescued.  Each kind of job declares what differs (``JobKind``):
its part model, how a part is applied, what closing adds, its two tasks.

A job finishes whatever moment its worker dies:

- A part's work and its "done" mark are one transaction, so a part's task is safe to
  run again, and runs again: it acknowledges late and is redelivered when its worker
  dies (a prefork pool's child at once; a whole worker's once Redis' visibility timeout
  has passed: ten minutes, twice ``CELERY_TASK_TIME_LIMIT``, see the settings).
- Closing is one conditional ``UPDATE … WHERE state is active AND no part is left``
  whose row count says whether this caller closed the job (healthchecks.io's way), so
  whoever finds the parts all done — the last part's task, a redelivered one, a new
  start — closes it, and exactly one of them does, and queues its follow-up once.
- The follow-up is queued after the closing commits.  A worker that dies in between
  has not acknowledged the part's task: redelivered, it finds its part and its job done
  and queues the follow-up again, which notifies no one twice.
- Celery beat's check (``job_rescue``, every minute) hands out again the parts of a job
  that has gone silent (``SILENT_AFTER``) that no worker holds — and, when they are all
  done, its last part, whose task closes the job.

A database hiccup is retried with back-off; anything else, or the last retry, marks the
whole job failed (its parts already done stay done) and is raised for the worker's log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from .choices import ACTIVE_JOB_STATES, JobState

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

#: A job is rescued once it has been queued this long without a part starting, or running
#: this long without a part finishing.  The longest part, at a million customers, takes
#: under a minute (a chunk of a first grading, the overdue rule's part of a first scan);
#: a part at work is never handed out again whatever the wait (its row is locked), so
#: this only has to outlast the gaps between parts finishing while others wait in the
#: queue.  A part handed out twice is harmless, only wasted: the second finds it done.
SILENT_AFTER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class JobKind:
    """What one kind of background job declares to the shared base.

    - ``part_model``: its parts (a ``JobPart``, whose ``job_field`` names the job);
    - ``apply_part(part_id, on_worker=)``: apply one part in one transaction that locks
      the part's row and marks it done, unless it is done already or its job is no
      longer active; returns whether it applied the part now;
    - ``close(job, on_worker=)``: what closing adds (the summary, the audit event,
      clean-up), inside the closing transaction, once;
    - ``part_task``, ``follow_up_task``: the dotted paths of the task that runs a part
      (takes the part's id) and of the task that follows up a closed job (the job's id).
    """

    part_model: Any
    apply_part: Callable[..., bool]
    close: Callable[..., None]
    part_task: str
    follow_up_task: str

    @property
    def job_model(self) -> Any:
        return self.part_model._meta.get_field(self.part_model.job_field).related_model

    @property
    def job_column(self) -> str:
        """The parts' column holding their job's id (``scan_id``, ``run_id``)."""
        return str(self.part_model._meta.get_field(self.part_model.job_field).attname)

    def parts_of(self, job_id: Any) -> Any:
        return self.part_model.objects.filter(**{self.job_column: job_id})


def run_part(task: Any, work: Callable[[], T], fail: Callable[[str], None], label: str) -> T:
    """Run ``work``; if it fails for good, call ``fail`` with what went wrong, then raise."""
    try:
        return work()
    except Exception as exc:
        if isinstance(exc, OperationalError) and task.request.retries < task.max_retries:
            raise
        fail(f"{label}: {exc!r}")
        raise


def job_part_run(kind: JobKind, *, part_id: int, on_worker: bool = False) -> bool:
    """Run one part of a job exactly once, then close the job if its parts are all done.
    Returns whether the part was applied now.

    A part found done already, of a job found closed already, may be the redelivery of
    the task that closed the job, its worker dead before it queued the follow-up: the
    follow-up is queued again (it notifies no one twice)."""
    job_id = kind.part_model.objects.filter(pk=part_id).values_list(kind.job_column, flat=True).first()
    if job_id is None:
        return False
    # Its own short statement: inside the part's transaction this row lock would make
    # the other workers' parts wait for this one to finish.
    kind.job_model.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=timezone.now()
    )
    applied = kind.apply_part(part_id, on_worker=on_worker)
    if job_close(kind, job_id=job_id, on_worker=on_worker):
        return applied
    if not applied and kind.job_model.objects.filter(pk=job_id, state=JobState.DONE).exists():
        _queue_follow_up(kind, job_id, queued=on_worker)
    return applied


def job_close(kind: JobKind, *, job_id: int, on_worker: bool = False) -> bool:
    """Close the job if it is active and its parts are all done; returns whether this
    call closed it.  Idempotent and safe to race: one conditional ``UPDATE`` closes it,
    and its row count tells the one caller that did (a concurrent caller waits for the
    row, then finds it closed); that caller alone adds the kind's closing writes and,
    once they commit, queues the follow-up (as a task of its own when the job runs on
    the workers, ``on_worker``, so that a slow mail server holds up no part; here and
    now otherwise)."""
    with transaction.atomic():
        now = timezone.now()
        parts_left = kind.parts_of(OuterRef("pk")).filter(done=False)
        closed = (
            kind.job_model.objects.filter(pk=job_id, state__in=ACTIVE_JOB_STATES)
            .filter(~Exists(parts_left))
            .update(state=JobState.DONE, finished_at=now, started_at=Coalesce("started_at", now))
        )
        if closed != 1:
            return False
        kind.close(kind.job_model.objects.get(pk=job_id), on_worker=on_worker)
        _queue_follow_up(kind, job_id, queued=on_worker)
    return True


def _queue_follow_up(kind: JobKind, job_id: int, *, queued: bool) -> None:
    task = import_string(kind.follow_up_task)
    if queued:
        transaction.on_commit(lambda: task.delay(job_id))
    else:
        transaction.on_commit(lambda: task(job_id))


def job_follow_up(kind: JobKind, *, job_id: int, work: Callable[[], T]) -> T | None:
    """Run a closed job's follow-up ``work`` (notify people of what it found) with the
    job's row locked: a follow-up queued twice (see ``job_part_run``) runs one after the
    other, and the second finds everyone notified.  None if the job is not done."""
    with transaction.atomic():
        job = kind.job_model.objects.select_for_update(no_key=True).filter(pk=job_id, state=JobState.DONE)
        if not job.exists():
            return None
        return work()


def job_active(kind: JobKind, *, queued: bool) -> Any:
    """The job of this kind that is queued or running, which a new start returns instead
    of starting another; None if there is none.  One whose parts are all done lost its
    closing (its worker died in between): it is closed here (``queued``: its follow-up
    goes to the workers) and no longer stands in the way."""
    active = kind.job_model.objects.filter(state__in=ACTIVE_JOB_STATES).first()
    if active is None or job_close(kind, job_id=active.pk, on_worker=queued):
        return None
    active.refresh_from_db()  # closed meanwhile by its last part?
    return active if active.state in ACTIVE_JOB_STATES else None


def job_hand_out(kind: JobKind, *, job_id: int, queue: bool) -> None:
    """A new job: queue its parts, one task each, after the commit (``queue``; otherwise
    the caller runs them).  A job without parts (nothing to evaluate) is closed at once."""
    parts = list(kind.parts_of(job_id).order_by("pk").values_list("pk", flat=True))
    if not parts:
        job_close(kind, job_id=job_id)
    elif queue:
        _queue_parts(kind, parts)


def _queue_parts(kind: JobKind, part_ids: list[int]) -> None:
    task = import_string(kind.part_task)
    transaction.on_commit(lambda: [task.delay(part_id) for part_id in part_ids])


def job_rescue(kind: JobKind, *, silent_for: dt.timedelta = SILENT_AFTER) -> list[int]:
    """Hand out again the work of the jobs of this kind that went silent: queued for
    ``silent_for`` without a part starting, or running that long without a part
    finishing (their tasks were lost, or their worker died).  Their parts not done that
    no worker holds go to the workers again; when every part is done, the last goes
    again and its task closes the job (a late-acknowledged task, so that a worker dying
    between closing and queueing the follow-up leaves it to the task's redelivery).
    Returns the ids of the jobs rescued."""
    since = timezone.now() - silent_for
    finished_lately = kind.parts_of(OuterRef("pk")).filter(finished_at__gte=since)
    silent = kind.job_model.objects.filter(
        Q(state=JobState.QUEUED, created_at__lt=since)
        | Q(state=JobState.RUNNING, started_at__lt=since) & ~Exists(finished_lately)
    )
    rescued = []
    for job_id in silent.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            parts = kind.parts_of(job_id)
            # A part at work is locked by its worker: skipped, not handed out twice.
            free = list(
                parts.filter(done=False)
                .select_for_update(skip_locked=True, no_key=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not free:
                if parts.filter(done=False).exists():
                    continue  # every part left is at work
                free = list(parts.order_by("-pk").values_list("pk", flat=True)[:1])
            if free:
                _queue_parts(kind, free)
            else:
                job_close(kind, job_id=job_id, on_worker=True)
        rescued.append(job_id)
    return rescued


def fail_job(job_model: Any, *, job_id: int, error: str) -> None:
    """Mark a job failed (it gave up after its retries); the parts it did stay done.  A job
    already done or failed is left as it is."""
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
