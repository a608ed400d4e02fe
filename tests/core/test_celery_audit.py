"""Writes made inside a Celery task are audited as the task's, with its id as request id."""

from __future__ import annotations

from typing import Any

import pytest

from crm.audit.models import AuditEvent
from crm.celery import app
from customers.services import customer_create

pytestmark = pytest.mark.django_db


@app.task(name="tests.create_customer")
def _create_customer(owner_id: int, name: str) -> int:
    from crm.accounts.models import User

    return customer_create(actor=User.objects.get(pk=owner_id), data={"name": name}).pk


def test_task_writes_are_audited_with_task_source(rep1: Any) -> None:
    result = _create_customer.apply(args=[rep1.pk, "任务创建的客户"], task_id="task-123")
    event = AuditEvent.objects.get(object_id=str(result.get()), action="create")
    assert event.source == "task"
    assert event.request_id == "task-123"
    # Outside the task the context is back to its default.
    from crm.audit.context import current

    assert current().source == "system"
