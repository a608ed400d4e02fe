"""Concurrent writers on real connections: the version check and the audit chain hold."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from crm.audit.models import AuditEvent
from crm.core.errors import VersionConflict
from customers.models import Customer
from customers.services import customer_update
from tests.factories import CustomerFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writers_with_the_same_version_one_wins(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(city: str) -> None:
        try:
            barrier.wait()
            customer_update(actor=rep1, instance=customer, data={"city": city}, expected_version=1)
            outcomes.append("ok")
        except VersionConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(city,)) for city in ("南京", "合肥")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "ok"]
    customer.refresh_from_db()
    assert customer.version == 2
    events = list(AuditEvent.objects.filter(action="update").order_by("seq"))
    assert len(events) == 1
    assert events[0].changes["city"]["after"] == customer.city


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_keep_the_audit_chain_gapless(rep1: Any) -> None:
    customers = [CustomerFactory(owner=rep1) for _ in range(4)]

    def write(target: Customer) -> None:
        try:
            for n in range(5):
                target.refresh_from_db()
                customer_update(
                    actor=rep1, instance=target, data={"notes": f"第{n}次"}, expected_version=target.version
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == 20
    assert seqs == list(range(seqs[0], seqs[0] + 20))
