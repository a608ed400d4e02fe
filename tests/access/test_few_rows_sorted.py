"""A rep's own rows are read whole and then sorted, whatever the order asked for; a
manager's and an admin's are read from the order's index; reference data, which every
user sees whole, is sorted as any list is.  The order is the same either way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.access.scope import reads_few
from customers.models import Customer
from tests.factories import CustomerFactory, ProductFactory, TransactionFactory
from transactions.models import Product, Transaction

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/transactions/"


def _page_sql(queries: Any, table: str) -> str:
    (page,) = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "COUNT(*)" not in q["sql"] and table in q["sql"]
    ]
    return page


def test_whose_rows_are_few(rep1: Any, manager: Any, admin_user: Any) -> None:
    assert reads_few(Transaction, rep1) and reads_few(Customer, rep1)
    assert not reads_few(Product, rep1)  # every user sees every product
    assert not reads_few(Transaction, manager) and not reads_few(Transaction, admin_user)


@pytest.mark.parametrize("ordering", ["amount", "-amount", "payment_state", "-created_at", "due_date", "-status"])
def test_a_rep_s_sorted_rows_come_in_the_same_order(
    api: Any, rep1: Any, admin_user: Any, team: Any, ordering: str
) -> None:
    customers = [CustomerFactory(owner=rep1, team=team) for _ in range(3)]
    today = timezone.localdate()
    for n in range(9):
        TransactionFactory(
            customer=customers[n % 3],
            amount=Decimal(100 * (n % 4)),
            status=("pending", "paid", "shipped")[n % 3],
            due_date=None if n == 4 else today + dt.timedelta(days=n % 5),
        )
    TransactionFactory()  # another rep's
    with CaptureQueriesContext(connection) as queries:
        mine = api(rep1).get(ORDERS, {"ordering": ordering, "page_size": 50}).json()["results"]
    assert "COALESCE" in _page_sql(queries.captured_queries, "transactions_transaction")
    with CaptureQueriesContext(connection) as queries:
        everyone = api(admin_user).get(ORDERS, {"ordering": ordering, "page_size": 50}).json()["results"]
    assert "COALESCE" not in _page_sql(queries.captured_queries, "transactions_transaction")
    ours = {c.pk for c in customers}
    assert [row["id"] for row in mine] == [row["id"] for row in everyone if row["customer"] in ours]
    assert len(mine) == 9


def test_reference_data_is_sorted_as_any_list(api: Any, rep1: Any) -> None:
    for price in ("30.00", "10.00", "20.00"):
        ProductFactory(list_price=Decimal(price))
    with CaptureQueriesContext(connection) as queries:
        rows = api(rep1).get("/api/v1/products/", {"ordering": "name"}).json()["results"]
    assert [row["name"] for row in rows] == sorted(row["name"] for row in rows)
    assert "COALESCE" not in _page_sql(queries.captured_queries, "transactions_product")


def test_the_overdue_orders_are_read_whole_then_sorted(api: Any, admin_user: Any) -> None:
    """Few orders are past due by their nature; read by the order date's index, every
    recent order (none of them due yet) was walked before the first overdue one.  The
    page's ids are sorted first, so that only the page's rows are read whole."""
    today = timezone.localdate()
    overdue = [
        TransactionFactory(
            order_date=today - dt.timedelta(days=60 + n), due_date=today - dt.timedelta(days=n + 1), amount=100 + n
        )
        for n in range(4)
    ]
    TransactionFactory(order_date=today, due_date=today + dt.timedelta(days=30))  # not due yet
    TransactionFactory(order_date=today - dt.timedelta(days=90), due_date=today - dt.timedelta(days=5), status="paid")
    for ordering in ("-order_date", "amount", None):
        params = {"overdue": "true", **({"ordering": ordering} if ordering else {})}
        with CaptureQueriesContext(connection) as queries:
            body = api(admin_user).get(ORDERS, params).json()
        # The page's ids first, sorted among every overdue order, then the page's rows.
        ids, rows = [
            q["sql"] for q in queries.captured_queries
            if q["sql"].startswith("SELECT") and "COUNT(*)" not in q["sql"] and "transactions_transaction" in q["sql"]
        ]  # fmt: skip
        assert "COALESCE" in ids and ids.startswith('SELECT "transactions_transaction"."id" AS "pk" FROM')
        assert '"transactions_transaction"."id" IN (' in rows and "ORDER BY" not in rows
        expected = sorted(overdue, key=lambda o: o.amount) if ordering == "amount" else overdue
        assert [row["id"] for row in body["results"]] == [o.pk for o in expected], ordering
        assert body["count"] == 4
    with CaptureQueriesContext(connection) as queries:
        api(admin_user).get(ORDERS, {"overdue": "false"})
    assert "COALESCE" not in _page_sql(queries.captured_queries, "transactions_transaction")
