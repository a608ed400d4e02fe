"""Orders and products: the shared contract plus amounts, payments, overdue and upsert."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.audit.models import AuditEvent
from tests.api_contract import ResourceContract, detail_url, ids_of
from tests.factories import CustomerFactory, ProductFactory, TransactionFactory
from transactions.models import Product, Transaction
from transactions.services import transaction_upsert

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions/"


class TestProductContract(ResourceContract):
    url = "/api/v1/products/"
    model = Product
    company_wide = True
    update_payload = {"list_price": "1500.00"}
    invalid_payloads = [({"sku": ""}, "sku"), ({"list_price": "-1"}, "list_price"), ({"currency": "XYZ"}, "currency")]

    def make(self, owner: Any) -> Product:
        return ProductFactory()

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {"sku": "SRV-001", "name": "年度维保服务", "unit": "年", "list_price": "8800.00", "is_service": True}


class TestTransactionContract(ResourceContract):
    url = URL
    model = Transaction
    update_payload = {"status": "shipped"}
    invalid_payloads = [
        ({"amount": "-3"}, "amount"),
        ({"quantity": "0"}, "quantity"),
        ({"order_date": "2026-13-01"}, "order_date"),
        ({"status": "lost"}, "status"),
        ({"payment_method": "barter"}, "payment_method"),
        ({"paid_amount": "99999"}, "paid_amount"),
        ({"customer": 999999}, "customer"),
        # A due date before the order date breaks a rule across two fields.
        ({"due_date": "2020-01-01"}, "non_field_errors"),
    ]
    max_list_queries = 4

    def make(self, owner: Any) -> Transaction:
        return TransactionFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "customer": CustomerFactory(owner=owner).pk,
            "amount": "5000.00",
            "order_date": "2026-11-01",
            "payment_method": "alipay",
        }


def test_amount_is_computed_from_product_price_and_quantity(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    product = ProductFactory(list_price=Decimal("199.90"))
    response = api(rep1).post(
        URL,
        {"customer": customer.pk, "product": product.pk, "quantity": "3", "order_date": "2026-11-02"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["unit_price"] == "199.90" and body["amount"] == "599.70"
    assert body["currency"] == "CNY" and body["sales_rep"] == rep1.pk


def test_amount_is_required_without_a_price(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    response = api(rep1).post(URL, {"customer": customer.pk, "order_date": "2026-11-02"}, format="json")
    assert response.status_code == 400 and "amount" in response.json()["fields"]


def test_paying_stamps_date_and_amount_and_refund_needs_payment(api: Any, rep1: Any) -> None:
    order = TransactionFactory(customer=CustomerFactory(owner=rep1), amount=Decimal("800"))
    client = api(rep1)
    url = detail_url(URL, order.pk)
    refused = client.patch(url, {"status": "refunded"}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400 and "status" in refused.json()["fields"]
    paid = client.patch(url, {"status": "paid"}, format="json", HTTP_IF_MATCH='"1"')
    assert paid.status_code == 200, paid.content
    assert paid.json()["paid_amount"] == "800.00"
    assert paid.json()["paid_date"] == timezone.localdate().isoformat()
    refunded = client.patch(url, {"status": "refunded"}, format="json", HTTP_IF_MATCH='"2"')
    assert refunded.status_code == 200


def test_overdue_filter_and_flag(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    today = timezone.localdate()
    late = TransactionFactory(
        customer=customer,
        order_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=30),
        status="pending",
    )
    on_time = TransactionFactory(customer=customer, due_date=today + dt.timedelta(days=5))
    TransactionFactory(
        customer=customer,
        order_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=30),
        status="completed",
        paid_amount=Decimal("2400"),
    )
    client = api(rep1)
    assert ids_of(client.get(URL, {"overdue": "true"})) == {late.pk}
    assert on_time.pk in ids_of(client.get(URL, {"overdue": "false"}))
    assert client.get(detail_url(URL, late.pk)).json()["is_overdue"] is True


def test_the_overdue_are_read_on_their_own_index_and_counted_from_statistics(
    api: Any, rep1: Any, manager: Any, admin_user: Any
) -> None:
    """Few open orders are past due, though most orders are past their due date and
    many are open: PostgreSQL knows it from the statistics of the open due date, and
    every role's overdue orders are read from their own index (not by reading the
    scope's customers first, which at a million customers took a manager a second)."""
    customer = CustomerFactory(owner=rep1)
    today = timezone.localdate()
    product = ProductFactory()
    late = TransactionFactory(
        customer=customer, product=product, order_date=today - dt.timedelta(days=60),
        due_date=today - dt.timedelta(days=30),
    )  # fmt: skip
    rows = [
        Transaction(
            customer=customer, product=product, amount=Decimal("100"), quantity=1,
            order_date=today - dt.timedelta(days=400 + n % 300),
            due_date=today - dt.timedelta(days=370 + n % 300),
            status="completed", paid_amount=Decimal("100"),
        )
        for n in range(300)
    ] + [
        Transaction(
            customer=customer, product=product, amount=Decimal("100"), quantity=1,
            order_date=today - dt.timedelta(days=n % 10), due_date=today + dt.timedelta(days=20 + n % 60),
            status="pending",
        )
        for n in range(300)
    ]  # fmt: skip
    Transaction.objects.bulk_create(rows)
    for user in (rep1, manager, admin_user):
        assert ids_of(api(user).get(URL, {"overdue": "true"})) == {late.pk}

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_transaction")
    with CaptureQueriesContext(connection) as captured:
        api(manager).get(URL, {"overdue": "true"})
    page = next(q["sql"] for q in captured.captured_queries if "due_date" in q["sql"] and "ORDER BY" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {page}")
        estimated = _scan_rows(cursor.fetchone()[0][0]["Plan"], "transactions_transaction")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    # One order is overdue; the status and the due date taken apart would make it 150.
    assert estimated < 20, estimated
    assert "txn_overdue" in plan, plan


def _scan_rows(node: dict[str, Any], table: str) -> float:
    """The rows PostgreSQL expects from its scan of ``table`` in the plan ``node``."""
    if node.get("Relation Name") == table:
        return float(node["Plan Rows"])
    return next(
        (rows for child in node.get("Plans", []) if (rows := _scan_rows(child, table)) >= 0),
        -1.0,
    )


def test_filters_and_ordering(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    small = TransactionFactory(customer=customer, amount=Decimal("100"), payment_method="cash")
    big = TransactionFactory(customer=customer, amount=Decimal("9000"), payment_method="wechat_pay", status="cancelled")
    client = api(rep1)
    assert ids_of(client.get(URL, {"status": "cancelled"})) == {big.pk}
    assert ids_of(client.get(URL, {"payment_method": ["cash", "alipay"]})) == {small.pk}
    assert ids_of(client.get(URL, {"amount_min": "1000"})) == {big.pk}
    order = [r["id"] for r in client.get(URL, {"ordering": "amount"}).json()["results"]]
    assert order == [small.pk, big.pk]
    assert client.get(URL, {"order_date_after": "not-a-date"}).status_code == 400


def test_duplicate_external_reference_is_a_field_error(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    TransactionFactory(customer=customer, source="erp", external_ref="SO-1")
    payload = {
        "customer": customer.pk,
        "amount": "10",
        "order_date": "2026-11-01",
        "source": "erp",
        "external_ref": "SO-1",
    }
    response = api(rep1).post(URL, payload, format="json")
    assert response.status_code == 400 and "external_ref" in response.json()["fields"]
    other_source = api(rep1).post(URL, {**payload, "source": "shop"}, format="json")
    assert other_source.status_code == 201


def test_upsert_creates_then_updates_and_is_idempotent(api: Any, integration_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(integration_user)
    payload = {
        "customer": customer.pk,
        "amount": "1200.00",
        "order_date": "2026-10-01",
        "source": "erp",
        "external_ref": "SO-2026-0001",
        "status": "pending",
    }
    first = client.post(f"{URL}upsert/", payload, format="json")
    assert first.status_code == 201, first.content
    second = client.post(f"{URL}upsert/", {**payload, "status": "paid"}, format="json")
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    third = client.post(f"{URL}upsert/", {**payload, "status": "paid"}, format="json")
    assert third.status_code == 200
    assert Transaction.objects.filter(external_ref="SO-2026-0001").count() == 1
    events = list(AuditEvent.objects.filter(resource="transactions.transaction").values_list("action", flat=True))
    assert sorted(events) == ["create", "update"]
    missing = client.post(f"{URL}upsert/", {**payload, "external_ref": ""}, format="json")
    assert missing.status_code == 400 and "external_ref" in missing.json()["fields"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_upserts_make_one_order(rep1: Any, integration_user: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    barrier = threading.Barrier(3)
    results: list[bool] = []

    def call() -> None:
        try:
            barrier.wait()
            _, created = transaction_upsert(
                actor=integration_user,
                data={
                    "customer": customer,
                    "amount": Decimal("10"),
                    "order_date": dt.date(2026, 11, 1),
                    "source": "shop",
                    "external_ref": "WX-9",
                },
            )
            results.append(created)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, True]
    assert Transaction.objects.filter(external_ref="WX-9").count() == 1


def test_an_order_is_found_by_part_of_its_reference_on_the_indexes(api: Any, admin_user: Any) -> None:
    """A search for part of an order's reference or description (three characters or
    more) finds its ids on the trigram indexes, not by reading every order; the other
    orders are not found."""
    customer = CustomerFactory()
    wanted = TransactionFactory(customer=customer, source="erp", external_ref="ERP-2026-118842")
    TransactionFactory(customer=customer, source="erp", external_ref="ERP-2026-000001", description="年度维保服务")
    other = Transaction.objects.exclude(pk=wanted.pk).get()
    assert ids_of(api(admin_user).get(URL, {"search": "118842"})) == {wanted.pk}
    assert ids_of(api(admin_user).get(URL, {"search": "维保服务"})) == {other.pk}
    assert ids_of(api(admin_user).get(URL, {"search": "erp-2026"})) == {wanted.pk, other.pk}

    with CaptureQueriesContext(connection) as captured:
        api(admin_user).get(URL, {"search": "118842"})
    ids = next(q["sql"] for q in captured.captured_queries if "external_ref" in q["sql"] and "LIMIT 2001" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {ids}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "txn_external_ref_trgm" in plan and "txn_description_trgm" in plan, plan
