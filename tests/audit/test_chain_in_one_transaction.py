"""Many audit events written in one transaction (an import, a merge, a bulk change):
chained in linear time, the chain head written once as the transaction commits, and a
rolled-back savepoint taking its events and its part of the running head with it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from crm.audit.models import AuditEvent
from crm.audit.selectors import audit_chain_breaks
from customers.models import Customer
from customers.services import customer_create_many, customer_update

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _head() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_auditchainhead WHERE id = 1")
        return cursor.fetchone()


def _head_updates_in_this_transaction() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'audit_auditchainhead'")
        row = cursor.fetchone()
    return row[0] if row else 0


def _create(rep: Any, prefix: str, n: int) -> list[Customer]:
    return customer_create_many(actor=rep, rows=[{"name": f"{prefix}链测试{i}"} for i in range(n)])


def test_a_transaction_of_many_events_writes_the_head_once_at_its_commit(rep1: Any) -> None:
    with transaction.atomic():
        before = _head_updates_in_this_transaction()
        _create(rep1, "甲", 300)
        # Not once per event: the head row is taken once and written at the commit ...
        assert _head_updates_in_this_transaction() - before <= 1
        # ... yet the transaction sees its own running head.
        count, breaks = audit_chain_breaks()
        assert count == 300 and breaks == []
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and _head() == (last.seq, last.hash)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + 300))
    assert audit_chain_breaks() == (300, [])


def test_a_rolled_back_savepoint_leaves_no_gap(rep1: Any) -> None:
    with transaction.atomic():
        _create(rep1, "乙", 5)
        try:
            with transaction.atomic():
                _create(rep1, "丙", 7)
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        _create(rep1, "丁", 3)
    assert AuditEvent.objects.count() == 8
    assert audit_chain_breaks() == (8, [])
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and _head() == (last.seq, last.hash)


def test_transactions_of_many_events_side_by_side_keep_one_gapless_chain(rep1: Any) -> None:
    """Two writers, each many events in one transaction, and single updates between:
    the first event of a transaction takes the head, so they take turns whole."""
    target = _create(rep1, "戊", 1)[0]

    def bulk(prefix: str) -> None:
        try:
            with transaction.atomic():
                _create(rep1, prefix, 50)
        finally:
            connection.close()

    def single() -> None:
        try:
            for n in range(5):
                current = Customer.objects.get(pk=target.pk)
                customer_update(actor=rep1, instance=current, data={"notes": f"{n}"}, expected_version=None)
        finally:
            connection.close()

    threads = [threading.Thread(target=bulk, args=(p,)) for p in ("己", "庚")] + [threading.Thread(target=single)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert audit_chain_breaks() == (1 + 100 + 5, [])
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and _head() == (last.seq, last.hash)
