"""Celery tasks of the tier engine: thin wrappers over the services.

Late acknowledgement with redelivery when a worker dies; a chunk's work and its "done"
mark are one transaction, so a retried task never evaluates a chunk twice.  The chunk that
closes a run queues the telling of its owners as a task of its own.  Celery beat's check,
every minute, rescues a run whose worker died (``crm.core.jobs``).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from crm.core.jobs import PART_TASK_OPTIONS, run_part

from . import services
from .choices import RunTrigger
from .selectors import tier_schedule


@shared_task(name="tiers.evaluate_chunk", **PART_TASK_OPTIONS)
def evaluate_tier_chunk(self, chunk_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Evaluate one chunk of customers of a run (skipped when it is already done)."""
    return run_part(
        self,
        lambda: services.tier_run_evaluate_chunk(chunk_id=chunk_id, on_worker=True),
        lambda error: services.tier_chunk_fail(chunk_id=chunk_id, error=error),
        f"chunk {chunk_id}",
    )


@shared_task(acks_late=True, name="tiers.tell_moves")
def tell_tier_moves(run_id: int) -> int:
    """Tell the owners whose customers a run just closed moved (once, whatever the retries)."""
    return services.tier_run_notify(run_id=run_id)


@shared_task(acks_late=True, name="tiers.evaluate_if_due")
def evaluate_tiers_if_due() -> int | None:
    """Celery beat calls this every minute: first rescue a run gone silent (its worker
    died: its chunks are handed out again, or it is closed); else start a run when the
    policy's review period is up."""

    rescued = services.tier_run_rescue()
    if rescued:
        return rescued[0]
    schedule = tier_schedule()
    if schedule.policy is None or schedule.next_due is None or schedule.next_due > timezone.now():
        return None
    return services.tier_run_start(actor=None, trigger=RunTrigger.SCHEDULE).pk


@shared_task(acks_late=True, name="tiers.compact_figures")
def compact_tier_figures() -> None:
    """Celery beat calls this every two minutes: the dashboard's figures folded into one
    row per key (done twice, it changes nothing)."""
    services.tier_figures_compact()


@shared_task(acks_late=True, name="tiers.rebuild_figures")
def rebuild_tier_figures() -> None:
    """Celery beat calls this each night: the dashboard's figures counted again from the
    records (done twice, it counts the same)."""
    services.tier_figures_rebuild()
