"""The duplicate finder as a Celery task: weekly (beat) and on demand."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .finder import find_duplicates


@shared_task(
    name="duplicates.find",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def find_duplicates_task() -> int:
    """Run the finder over the whole book (one transaction: safe to run again when its
    worker died); return how many open pairs there are now."""
    return find_duplicates().pairs
