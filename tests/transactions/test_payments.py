"""Payment records (回款): the order's paid figures, payment state and status follow them
whatever writes them — the API, the pages, an upsert, an import, or the ORM and raw SQL —
and two payments of one order at once both count."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import psycopg2
import pytest
from django.db import connection
from django.db.utils import IntegrityError
from django.utils import timezone

from crm.access.models import FieldPermission
from crm.audit.models import AuditEvent
from crm.core.errors import DomainError
from tests.api_contract import ResourceContract, detail_url, ids_of
from tests.factories import CustomerFactory, TransactionFactory
from transactions.forms import TransactionForm
from transactions.models import Payment, Transaction
from transactions.selectors import overdue_condition
from transactions.services import payment_create, payment_reverse, transaction_create_many, transaction_update_many
from workspace.selectors import customer_figures

pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/"
ORDERS = "/api/v1/transactions/"
HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _today() -> None:
    """Today as each test starts (a payment is dated today when no date is given): a
    run that crosses midnight in the business's time zone sees the new day."""
    global TODAY
    TODAY = timezone.localdate()


def _order(owner: Any, amount: str = "1000", **extra: Any) -> Transaction:
    return TransactionFactory(customer=CustomerFactory(owner=owner), amount=Decimal(amount), **extra)


def _state(order: Transaction) -> tuple[str, str, str, str, dt.date | None]:
    order.refresh_from_db()
    return str(order.paid_amount), str(order.refunded_amount), order.payment_state, order.status, order.paid_date


def _pay(order: Transaction, amount: str, **extra: Any) -> Payment:
    return Payment.objects.create(
        customer_id=order.customer_id,
        order=order,
        kind="payment" if Decimal(amount) > 0 else "refund",
        paid_on=extra.pop("paid_on", TODAY),
        amount=Decimal(amount),
        reason=extra.pop("reason", "" if Decimal(amount) > 0 else "退货"),
        **extra,
    )


# ------------------------------------------------------------------ the API
class TestPaymentContract(ResourceContract):
    url = URL
    model = Payment
    invalid_payloads = [({"amount": "99999"}, "amount"), ({"order": 999999}, "order"), ({"method": "x"}, "method")]
    max_list_queries = 4

    def make(self, owner: Any) -> Payment:
        return _pay(_order(owner), "100")

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {"order": _order(owner).pk, "amount": "250.00", "method": "alipay", "reference": "BK-7"}

    def test_update_needs_current_version(self, api: Any, request: Any, rep1: Any) -> None:
        """Payment records are never edited, by anyone: a wrong one is reversed or removed."""
        record = self.make(rep1)
        for user in (rep1, request.getfixturevalue("admin_user")):
            response = api(user).patch(detail_url(URL, record.pk), {"notes": "x"}, format="json", HTTP_IF_MATCH='"1"')
            assert response.status_code in (403, 405)
        record.refresh_from_db()
        assert record.notes == "" and record.version == 1

    def test_garbled_if_match_is_a_412_on_update_and_delete(self, api: Any, request: Any, rep1: Any) -> None:
        record = self.make(rep1)
        response = api(request.getfixturevalue("manager")).delete(detail_url(URL, record.pk), HTTP_IF_MATCH='W/"1"')
        assert response.status_code == 412 and Payment.objects.filter(pk=record.pk).exists()


def test_a_rep_records_partial_payments_and_the_order_follows(api: Any, rep1: Any) -> None:
    order = _order(rep1)
    client = api(rep1)
    first = client.post(
        URL,
        {"order": order.pk, "amount": "400", "paid_on": str(TODAY - dt.timedelta(days=3)), "reference": "BK-1"},
        format="json",
    )
    assert first.status_code == 201, first.content
    assert first.json()["recorded_by"] == rep1.pk and first.json()["kind"] == "payment"
    assert first.json()["customer"] == order.customer_id
    assert _state(order) == ("400.00", "0.00", "partly_paid", "pending", TODAY - dt.timedelta(days=3))
    body = client.get(detail_url(ORDERS, order.pk)).json()
    assert (body["paid_amount"], body["payment_state"], body["outstanding"]) == ("400.00", "partly_paid", "600.00")
    second = client.post(URL, {"order": order.pk, "amount": "600", "method": "alipay"}, format="json")
    assert second.status_code == 201, second.content
    assert _state(order) == ("1000.00", "0.00", "paid", "paid", TODAY)
    # The order's change is audited as an update of the order, by the rep.
    event = AuditEvent.objects.filter(resource="transactions.transaction", object_id=str(order.pk)).latest("seq")
    assert event.action == "update" and event.actor_id == rep1.pk
    assert ids_of(client.get(URL, {"order": order.pk})) == {first.json()["id"], second.json()["id"]}
    assert ids_of(client.get(URL, {"method": "alipay"})) == {second.json()["id"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "1000.01"}, "amount"),  # more than owed
        ({"amount": "-1"}, "amount"),  # a refund of what was never paid
        ({"amount": "0"}, "non_field_errors"),
        ({"amount": "10", "paid_on": "2999-01-01"}, "paid_on"),
        ({"amount": "10", "method": "barter"}, "method"),
    ],
)
def test_bad_payments_are_refused_with_the_field(api: Any, rep1: Any, payload: dict[str, Any], field: str) -> None:
    order = _order(rep1)
    response = api(rep1).post(URL, {"order": order.pk, **payload}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"] or field == "non_field_errors"
    assert not Payment.objects.exists() and _state(order)[0] == "0.00"


def test_refunds_need_a_reason_and_a_full_refund_refunds_the_order(api: Any, rep1: Any, manager: Any) -> None:
    order = _order(rep1, status="completed")
    client = api(rep1)
    assert client.post(URL, {"order": order.pk, "amount": "1000"}, format="json").status_code == 201
    assert _state(order)[2:4] == ("paid", "completed")
    no_reason = client.post(URL, {"order": order.pk, "amount": "-300"}, format="json")
    assert no_reason.status_code == 400
    partial = client.post(URL, {"order": order.pk, "amount": "-300", "reason": "部分退货"}, format="json")
    assert partial.status_code == 201 and partial.json()["kind"] == "refund"
    # A partial refund lowers what is owed too: the order stays settled.
    assert _state(order)[:4] == ("700.00", "300.00", "paid", "completed")
    rest = client.post(URL, {"order": order.pk, "amount": "-700", "reason": "全部退货"}, format="json")
    assert rest.status_code == 201
    assert _state(order)[:4] == ("0.00", "1000.00", "refunded", "refunded")
    assert order.paid_date is None


def test_payments_follow_the_record_scope(api: Any, rep1: Any, rep2: Any, manager: Any, outsider: Any) -> None:
    mine = _order(rep1)
    payment = payment_create(actor=rep1, data={"order": mine, "amount": Decimal("100")})
    assert ids_of(api(manager).get(URL)) == {payment.pk}
    assert ids_of(api(rep2).get(URL)) == set()
    assert api(outsider).get(detail_url(URL, payment.pk)).status_code == 404
    refused = api(outsider).post(URL, {"order": mine.pk, "amount": "5"}, format="json")
    assert refused.status_code == 400 and "order" in refused.json()["fields"]
    assert Payment.objects.count() == 1


def test_a_manager_reverses_a_payment_and_a_rep_may_not(api: Any, rep1: Any, manager: Any) -> None:
    order = _order(rep1)
    payment = payment_create(actor=rep1, data={"order": order, "amount": Decimal("1000")})
    assert _state(order)[3] == "paid"
    url = f"{detail_url(URL, payment.pk)}reverse/"
    assert api(rep1).post(url, {"reason": "退票"}, format="json").status_code == 403
    assert api(rep1).delete(detail_url(URL, payment.pk), HTTP_IF_MATCH='"1"').status_code == 403
    assert api(manager).post(url, {}, format="json").status_code == 400  # a reason is required
    reversed_ = api(manager).post(url, {"reason": "银行退票"}, format="json")
    assert reversed_.status_code == 201, reversed_.content
    assert reversed_.json()["kind"] == "reversal" and reversed_.json()["reverses"] == payment.pk
    assert _state(order) == ("0.00", "0.00", "unpaid", "pending", None)
    again = api(manager).post(url, {"reason": "再来"}, format="json")
    assert again.status_code == 400
    # A record entered in error is removed by a manager; a reversed payment keeps its reversal.
    kept = api(manager).delete(detail_url(URL, payment.pk), HTTP_IF_MATCH='"1"')
    assert kept.status_code == 409 and "冲销" in kept.json()["message"]


def test_an_order_with_payments_cannot_be_deleted(api: Any, rep1: Any, manager: Any) -> None:
    order = _order(rep1)
    payment_create(actor=rep1, data={"order": order, "amount": Decimal("10")})
    order.refresh_from_db()
    response = api(manager).delete(detail_url(ORDERS, order.pk), HTTP_IF_MATCH=f'"{order.version}"')
    assert response.status_code == 409 and "回款记录" in response.json()["message"]
    assert Transaction.objects.filter(pk=order.pk).exists()


def test_the_field_policy_decides_who_records_payments(api: Any, rep1: Any) -> None:
    order = _order(rep1)
    FieldPermission.objects.create(resource="payments", field="amount", role="rep", level="read")
    refused = api(rep1).post(URL, {"order": order.pk, "amount": "10"}, format="json")
    assert refused.status_code == 400 and "amount" in refused.json()["fields"]
    # Nor can the rep set the order to paid, which would record the payment for them.
    by_status = api(rep1).patch(detail_url(ORDERS, order.pk), {"status": "paid"}, format="json", HTTP_IF_MATCH='"1"')
    assert by_status.status_code == 403
    assert _state(order)[:4] == ("0.00", "0.00", "unpaid", "pending") and not Payment.objects.exists()


# ------------------------------------------------------------------ the order's own channels
def test_setting_an_order_paid_records_the_payment(api: Any, rep1: Any) -> None:
    order = _order(rep1, "800")
    response = api(rep1).patch(detail_url(ORDERS, order.pk), {"status": "paid"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    payment = Payment.objects.get()
    assert (payment.amount, payment.kind, payment.recorded_by_id) == (Decimal("800"), "payment", rep1.pk)
    assert response.json()["payment_state"] == "paid" and response.json()["status"] == "paid"


def test_an_upsert_with_a_paid_amount_records_the_difference(api: Any, integration_user: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    client = api(integration_user)
    body = {"customer": customer.pk, "amount": "1200", "order_date": "2026-10-01", "source": "erp",
            "external_ref": "SO-9", "paid_amount": "500", "paid_date": "2026-10-05"}  # fmt: skip
    assert client.post(f"{ORDERS}upsert/", body, format="json").status_code == 201
    assert client.post(f"{ORDERS}upsert/", body, format="json").status_code == 200  # the same: nothing more
    order = Transaction.objects.get(external_ref="SO-9")
    assert _state(order) == ("500.00", "0.00", "partly_paid", "pending", dt.date(2026, 10, 5))
    assert list(order.payments.values_list("kind", "amount")) == [("payment", Decimal("500"))]
    lower = client.post(f"{ORDERS}upsert/", {**body, "paid_amount": "200"}, format="json")
    assert lower.status_code == 200 and lower.json()["paid_amount"] == "200.00"
    assert order.payments.filter(kind="reversal", amount=Decimal("-300")).exists()
    paid = client.post(f"{ORDERS}upsert/", {**body, "paid_amount": "1200"}, format="json")
    assert paid.json()["status"] == "paid" and paid.json()["payment_state"] == "paid"


def test_the_import_path_records_payments_in_bulk(rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    rows = [
        {"customer": customer, "amount": Decimal("100"), "order_date": TODAY, "status": "paid"},
        {"customer": customer, "amount": Decimal("300"), "order_date": TODAY, "paid_amount": Decimal("120")},
        {"customer": customer, "amount": Decimal("50"), "order_date": TODAY},
    ]
    created = transaction_create_many(actor=rep1, rows=rows)
    assert [(o.paid_amount, o.payment_state, o.status) for o in created] == [
        (Decimal("100"), "paid", "paid"),
        (Decimal("120"), "partly_paid", "pending"),
        (Decimal("0"), "unpaid", "pending"),
    ]
    assert Payment.objects.filter(recorded_by=rep1).count() == 2
    updated = transaction_update_many(actor=rep1, changes=[(created[1], {"status": "completed"}, None)])
    assert updated[0] is not None and (updated[0].paid_amount, updated[0].status) == (Decimal("300"), "completed")


def test_the_order_form_shows_paid_figures_and_offers_no_payment_status(rep1: Any) -> None:
    order = _order(rep1)
    form = TransactionForm(instance=order, user=rep1)
    assert form.fields["paid_amount"].disabled and form.fields["paid_date"].disabled
    offered = {value for value, _label in form.fields["status"].choices}
    assert "paid" not in offered and "refunded" not in offered and "shipped" in offered


def test_a_payment_is_recorded_in_place_on_the_360_page(client: Any, rep1: Any) -> None:
    order = _order(rep1)
    client.force_login(rep1)
    page = client.get(f"/customers/{order.customer_id}/")
    assert page.status_code == 200 and 'id="payments"' in page.content.decode()
    form = client.get(f"/customers/{order.customer_id}/payments/new/", **HTMX)
    assert form.status_code == 200 and f'value="{order.pk}"' in form.content.decode()
    refused = client.post(
        f"/customers/{order.customer_id}/payments/new/", {"order": order.pk, "amount": "5000"}, **HTMX
    )
    assert refused.status_code == 422
    saved = client.post(
        f"/customers/{order.customer_id}/payments/new/", {"order": order.pk, "amount": "1000", "method": "cash"}, **HTMX
    )
    assert saved.status_code == 200, saved.content.decode()[:500]
    assert _state(order)[2:4] == ("paid", "paid")
    # Records are not edited in place.
    payment = Payment.objects.get()
    assert client.get(f"/customers/{order.customer_id}/payments/{payment.pk}/edit/").status_code == 404


# ------------------------------------------------------------------ every write path of payments
def test_orm_and_raw_writes_of_payments_keep_the_order_right(rep1: Any) -> None:
    order = _order(rep1)
    other = _order(rep1)
    Payment.objects.bulk_create(
        [
            Payment(customer_id=order.customer_id, order=order, paid_on=TODAY, amount=Decimal("300")),
            Payment(customer_id=order.customer_id, order=order, paid_on=TODAY, amount=Decimal("700")),
            Payment(customer_id=order.customer_id, order=other, paid_on=TODAY, amount=Decimal("1")),  # wrong customer
        ]
    )
    assert _state(order)[:4] == ("1000.00", "0.00", "paid", "paid")
    assert Payment.objects.get(order=other).customer_id == other.customer_id
    Payment.objects.filter(order=order, amount=Decimal("700")).update(amount=Decimal("200"))
    assert _state(order)[:4] == ("500.00", "0.00", "partly_paid", "pending")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO transactions_payment (created_at, updated_at, version, customer_id, order_id, kind, paid_on,"
            " amount, method, reference, reason, notes)"
            " VALUES (now(), now(), 1, %s, %s, 'refund', %s, -500, 'cash', '', 'raw', '')",
            [order.customer_id, order.pk, TODAY],
        )
    assert _state(order)[:4] == ("0.00", "500.00", "refunded", "pending")
    Payment.objects.filter(order=order).delete()
    assert _state(order)[:4] == ("0.00", "0.00", "unpaid", "pending")
    # The database refuses a refund of more than was paid, whoever writes it.
    with pytest.raises(IntegrityError):
        _pay(order, "-1")


def test_a_changed_amount_changes_the_payment_state(rep1: Any) -> None:
    order = _order(rep1)
    _pay(order, "600")
    assert _state(order)[2] == "partly_paid"
    Transaction.objects.filter(pk=order.pk).update(amount=Decimal("600"))
    assert _state(order)[2] == "paid"


def test_overdue_and_the_360_figures_read_the_derived_amounts(rep1: Any) -> None:
    order = _order(rep1, due_date=None, order_date=TODAY - dt.timedelta(days=60))
    Transaction.objects.filter(pk=order.pk).update(due_date=TODAY - dt.timedelta(days=5))
    _pay(order, "400")
    assert Transaction.objects.filter(overdue_condition(), pk=order.pk).exists()
    assert customer_figures(customer=order.customer).outstanding == Decimal("600")
    _pay(order, "-100")  # a refund of part of it: owed 900, paid 300
    assert customer_figures(customer=order.customer).outstanding == Decimal("600")
    _pay(order, "600")
    assert not Transaction.objects.filter(overdue_condition(), pk=order.pk).exists()
    assert customer_figures(customer=order.customer).outstanding == Decimal("0")


def test_reversing_a_payment_through_the_service(rep1: Any, manager: Any) -> None:
    order = _order(rep1)
    payment = payment_create(actor=rep1, data={"order": order, "amount": Decimal("1000")})
    payment_create(actor=rep1, data={"order": order, "amount": Decimal("-200"), "reason": "折让"})
    with pytest.raises(DomainError):  # would leave more refunded than paid
        payment_reverse(actor=manager, instance=payment, reason="退票")
    assert _state(order)[:3] == ("800.00", "200.00", "paid")


# ------------------------------------------------------------------ at the same time
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_payments_of_one_order_at_once_both_count(rep1: Any, rep2: Any) -> None:
    order = _order(rep1)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def pay(amount: str) -> None:
        try:
            barrier.wait()
            payment_create(actor=rep1, data={"order": order, "amount": Decimal(amount)})
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(amount,)) for amount in ("400", "600")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _state(order)[:4] == ("1000.00", "0.00", "paid", "paid")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_overpayment_race_lets_one_through(rep1: Any) -> None:
    order = _order(rep1)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def pay() -> None:
        try:
            barrier.wait()
            payment_create(actor=rep1, data={"order": order, "amount": Decimal("700")})
        except DomainError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1 and _state(order)[:3] == ("700.00", "0.00", "partly_paid")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_raw_connections_inserting_payments_at_once_both_count(rep1: Any) -> None:
    order = _order(rep1)
    barrier = threading.Barrier(2)
    settings = connection.settings_dict
    errors: list[Exception] = []

    def insert(amount: int) -> None:
        # A connection of its own, outside Django: a bare client writing payments.
        raw = psycopg2.connect(
            dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
            host=settings["HOST"] or None, port=settings["PORT"] or None,
        )  # fmt: skip
        try:
            with raw.cursor() as cursor:
                barrier.wait()
                cursor.execute(
                    "INSERT INTO transactions_payment (created_at, updated_at, version, customer_id, order_id, kind,"
                    " paid_on, amount, method, reference, reason, notes)"
                    " VALUES (now(), now(), 1, %s, %s, 'payment', %s, %s, 'cash', '', '', '')",
                    [order.customer_id, order.pk, TODAY, amount],
                )
            raw.commit()
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)
        finally:
            raw.close()

    threads = [threading.Thread(target=insert, args=(amount,)) for amount in (300, 700)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _state(order)[:4] == ("1000.00", "0.00", "paid", "paid")


def test_a_payment_naming_another_customer_than_its_orders_is_refused(api: Any, rep1: Any) -> None:
    """The order decides the customer; a writer naming a different one made a mistake."""
    order, other = _order(rep1), CustomerFactory(owner=rep1)
    client = api(rep1)
    refused = client.post(URL, {"order": order.pk, "customer": other.pk, "amount": "10"}, format="json")
    assert refused.status_code == 400 and "order" in refused.json()["fields"]
    assert not Payment.objects.exists()
    same = client.post(URL, {"order": order.pk, "customer": order.customer_id, "amount": "10"}, format="json")
    assert same.status_code == 201 and same.json()["customer"] == order.customer_id


def test_a_manager_reverses_a_payment_from_the_360_page(
    client: Any, rep1: Any, manager: Any, django_assert_max_num_queries: Any
) -> None:
    """The rep records, the manager sees the payment with a Reverse button and reverses
    it with a reason: the order is owed again; the rep gets no such button nor the verb."""
    order = _order(rep1)
    payment = _pay(order, "1000")
    assert _state(order)[2:4] == ("paid", "paid")
    page_url = f"/customers/{order.customer_id}/"
    reverse_url = f"/customers/{order.customer_id}/payments/{payment.pk}/reverse/"

    client.force_login(rep1)
    assert f'data-testid="reverse-{payment.pk}"' not in client.get(page_url).content.decode()
    assert client.post(reverse_url, {"reason": "退票"}, **HTMX).status_code == 404
    assert _state(order)[2:4] == ("paid", "paid")

    client.force_login(manager)
    assert f'data-testid="reverse-{payment.pk}"' in client.get(page_url).content.decode()
    refused = client.post(reverse_url, {"reason": " "}, **HTMX)
    assert refused.status_code == 422 and Payment.objects.count() == 1
    with django_assert_max_num_queries(60):
        done = client.post(reverse_url, {"reason": "转账被退回"}, **HTMX)
    assert done.status_code == 200, done.content.decode()[:300]
    body = done.content.decode()
    assert 'data-testid="payments-saved"' in body and f'data-testid="reverse-{payment.pk}"' not in body
    assert _state(order)[2:4] == ("unpaid", "pending")
    reversal = Payment.objects.get(reverses=payment)
    assert reversal.kind == "reversal" and reversal.amount == -payment.amount and reversal.recorded_by == manager
    # Once is enough: a second reversal is refused in words, and nothing is written.
    again = client.post(reverse_url, {"reason": "再来一次"}, **HTMX)
    assert again.status_code == 422 and Payment.objects.count() == 2
    # Without scripts the page comes back to the payments section.
    plain = client.post(reverse_url, {"reason": "x"})
    assert plain.status_code == 302 and plain["Location"].endswith("#payments")
