"""The buying rhythm the database keeps per customer, through every kind of order write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from tests.concurrent import held_open
from tests.factories import CustomerFactory, TransactionFactory
from transactions.models import CustomerOrderStats, Transaction

D = dt.date(2026, 3, 1)


def _stats(customer: Any) -> tuple[int, dt.date | None, dt.date | None]:
    row = CustomerOrderStats.objects.get(customer=customer)
    return row.order_days, row.first_order_date, row.last_order_date


@pytest.mark.django_db
def test_inserts_updates_and_deletes_keep_the_rhythm(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    first = TransactionFactory(customer=customer, order_date=D, status="completed")
    assert _stats(customer) == (1, D, D)
    TransactionFactory(customer=customer, order_date=D, status="paid")  # the same day: still one day
    later = TransactionFactory(customer=customer, order_date=D + dt.timedelta(days=30), status="pending")
    assert _stats(customer) == (2, D, D + dt.timedelta(days=30))
    Transaction.objects.filter(pk=later.pk).update(status="cancelled")  # cancelled orders do not count
    assert _stats(customer) == (1, D, D)
    Transaction.objects.filter(pk=first.pk).update(order_date=D - dt.timedelta(days=10))
    assert _stats(customer) == (2, D - dt.timedelta(days=10), D)
    Transaction.objects.filter(customer=customer).exclude(status="cancelled").delete()
    assert _stats(customer) == (0, None, None)


@pytest.mark.django_db
def test_a_bulk_insert_and_an_order_moved_to_another_customer(rep1: Any) -> None:
    a, b = CustomerFactory(owner=rep1), CustomerFactory(owner=rep1)
    with connection.cursor() as cursor:  # one set-based statement for many customers
        cursor.execute(
            """INSERT INTO transactions_transaction (created_at, updated_at, version, customer_id, description,
                   quantity, amount, currency, order_date, payment_method, status, paid_amount, source, external_ref,
                   notes)
               SELECT now(), now(), 1, c, '', 1, 100, 'CNY', %s::date + d, 'bank_transfer', 'completed', 100, '',
                      '', ''
               FROM unnest(ARRAY[%s, %s]) AS c, generate_series(0, 2) AS d""",
            [D, a.pk, b.pk],
        )
    assert _stats(a) == _stats(b) == (3, D, D + dt.timedelta(days=2))
    moved = Transaction.objects.filter(customer=a).order_by("order_date").last()
    Transaction.objects.filter(pk=moved.pk).update(customer=b)
    assert _stats(a) == (2, D, D + dt.timedelta(days=1)) and _stats(b) == (3, D, D + dt.timedelta(days=2))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_transactions_ordering_for_one_customer_at_once_are_both_counted(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    TransactionFactory(customer=customer, order_date=D, status="completed")
    with held_open(
        lambda: TransactionFactory(customer=customer, order_date=D + dt.timedelta(days=5), status="completed")
    ):
        TransactionFactory(customer=customer, order_date=D + dt.timedelta(days=9), status="completed")
    assert _stats(customer) == (3, D, D + dt.timedelta(days=9))
