"""The Celery application: JSON only, late acknowledgement, bounded run time.

Every task runs as one audited unit of work: what it writes is recorded with source
``task`` and the task id as request id, so a change made by a background job can be
traced to the job that made it.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_tokens: dict[str, Any] = {}


@task_prerun.connect
def _enter_audit_context(task_id: str | None = None, **_: Any) -> None:
    from crm.audit import context
    from crm.audit.choices import Source

    _tokens[task_id or ""] = context.set_for_request(context.AuditContext(source=Source.TASK, request_id=task_id or ""))


@task_postrun.connect
def _leave_audit_context(task_id: str | None = None, **_: Any) -> None:
    from crm.audit import context

    token = _tokens.pop(task_id or "", None)
    if token is not None:
        context.reset(token)
