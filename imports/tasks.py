"""Celery task of imports: a thin wrapper over the service.

Acknowledged late: a worker that dies while importing leaves the job importing with
nothing written (the import is one transaction), and the task is delivered again."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(name="imports.run", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_import(job_id: int) -> str | None:
    """Import one job marked importing (nothing if it is not, or no longer)."""
    job = services.import_run(job_id=job_id)
    return job.state if job is not None else None
