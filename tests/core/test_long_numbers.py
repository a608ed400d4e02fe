"""A number nobody's id can be, typed or posted where an id or a version goes (5,000
nines, longer than Python converts by default): the page answers as for any id that
matches nothing, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ActivityFactory, CustomerFactory

pytestmark = pytest.mark.django_db
NINES = "9" * 5000


def test_long_numbers_in_addresses_and_forms(client: Any, admin_user: Any, manager: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    planned = ActivityFactory(customer=customer, assignee=rep1, done=False)
    client.force_login(admin_user)
    assert client.get("/console/audit/", {"customer": NINES}).status_code < 500
    assert client.get("/alerts/", {"customer": NINES}).status_code < 500
    refused = client.post("/alerts/bulk/", {"alerts": f"{NINES}:1", "action": "acknowledged"})
    assert refused.status_code < 500
    client.force_login(manager)
    assert client.post("/approvals/", {"ids": [NINES], "action": "approve"}).status_code < 500
    assert client.post("/alerts/bulk/", {"alerts": "1:1", "action": "assign", "assignee": NINES}).status_code < 500
    client.force_login(rep1)
    assert client.get(f"/customers/{customer.pk}/plan/", {"after": NINES}).status_code < 500
    assert client.post(f"/follow-ups/{planned.pk}/done/", {"version": NINES}).status_code < 500
