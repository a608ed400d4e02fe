"""Celery tasks of the base: large exports (``crm.core.exports``), thin wrappers over
its functions.  Late acknowledgement: a worker that dies mid-export has the task
delivered again, which writes the file anew."""

from __future__ import annotations

from celery import shared_task

from . import exports


@shared_task(acks_late=True, name="core.run_export")
def run_export(export_id: int) -> str:
    """Write the file of one export."""
    export = exports.export_run(export_id=export_id)
    return export.state if export is not None else "missing"


@shared_task(acks_late=True, name="core.purge_exports")
def purge_exports() -> int:
    """Celery beat calls this every hour: remove the exports whose time is up."""
    return exports.exports_purge()
