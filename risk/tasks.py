"""Celery tasks of the risk scan: thin wrappers over the services.

Late acknowledgement with redelivery when a worker dies; each rule's alerts and its
"done" mark are one transaction, so a scan retried mid-way applies no rule twice and the
unique index on open alerts keeps any alert from being raised twice.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services
from .choices import ScanTrigger


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    name="risk.run_scan",
)
def run_risk_scan(self, scan_id: int) -> int | None:  # type: ignore[no-untyped-def]
    """Apply the scan's rules not applied yet, then close it."""
    try:
        scan = services.risk_scan_run(scan_id=scan_id)
    except Exception as exc:
        if isinstance(exc, OperationalError) and self.request.retries < self.max_retries:
            raise
        services.risk_scan_fail(scan_id=scan_id, error=repr(exc))
        raise
    return scan.pk if scan else None


@shared_task(acks_late=True, name="risk.scan_if_due")
def scan_risks_if_due() -> int | None:
    """Celery beat calls this every few minutes: start the day's scan once the configured
    time of day has passed and no scan has started today."""
    from .selectors import scan_due

    if not scan_due():
        return None
    return services.risk_scan_start(actor=None, trigger=ScanTrigger.SCHEDULE).pk
