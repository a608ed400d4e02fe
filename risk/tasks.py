"""Celery tasks of the risk scan: thin wrappers over the services.

A scan is one task per step (a rule, or a range of customers of a rule), shared by the
workers; the step that closes the scan queues the telling of its assignees as a task of
its own.  Late acknowledgement with redelivery when a worker dies; each step's alerts and
its "done" mark are one transaction, so a retried task applies no step twice and the
unique index on open alerts keeps any alert from being raised twice.  Celery beat's
check, every minute, rescues a scan whose worker died (``crm.core.jobs``).
"""

from __future__ import annotations

from celery import shared_task

from crm.core.jobs import PART_TASK_OPTIONS, run_part

from . import services
from .choices import ScanTrigger
from .selectors import scan_due


@shared_task(name="risk.run_step", **PART_TASK_OPTIONS)
def run_risk_step(self, step_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Apply one step of a scan (skipped when already applied); the last closes the scan."""
    return run_part(
        self,
        lambda: services.risk_step_run(step_id=step_id, on_worker=True),
        lambda error: services.risk_step_fail(step_id=step_id, error=error),
        f"step {step_id}",
    )


@shared_task(acks_late=True, name="risk.tell_after_scan")
def tell_after_scan(scan_id: int) -> int:
    """Tell the assignees of a scan just closed (each alert once, whatever the retries)."""
    return services.risk_scan_tell(scan_id=scan_id)


@shared_task(acks_late=True, name="risk.scan_if_due")
def scan_risks_if_due() -> int | None:
    """Celery beat calls this every minute: first rescue a scan gone silent (its worker
    died: its steps are handed out again, or it is closed); else start the day's scan
    once the configured time of day has passed and no scan has started today."""

    rescued = services.risk_scan_rescue()
    if rescued:
        return rescued[0]
    if not scan_due():
        return None
    return services.risk_scan_start(actor=None, trigger=ScanTrigger.SCHEDULE).pk
