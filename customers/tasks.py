"""Celery tasks of the customer archive: thin wrappers around ``customers.services``."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, name="customers.compact_archive_figures")
def compact_archive_figures() -> None:
    """Celery beat calls this every two minutes: archive health's figures folded into one
    row per team and owner (done twice, it changes nothing)."""
    services.archive_figures_compact()


@shared_task(acks_late=True, name="customers.rebuild_archive_figures")
def rebuild_archive_figures() -> None:
    """Celery beat calls this each night: archive health's figures counted again from the
    archive states (done twice, it counts the same)."""
    services.archive_figures_rebuild()
