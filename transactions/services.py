"""Orders and payments: amounts that add up, payment states that follow the money.

An order's paid figures and its paid/refunded statuses follow its payment records (the
database recomputes them on every write of payments).  A payment is recorded by
:func:`payment_create`; an order written with a paid amount or the status "paid",
"completed" or "refunded" (an integration's upsert, an import, the API) is turned into
the payment record that brings the order's net paid amount to that figure, recorded as
the writer, who must be allowed to record payments.

Every function is one transaction and is audited through ``crm.core.services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.policy import Level, policy_for
from crm.access.registry import CREATE, may
from crm.access.scope import scoped_lookup
from crm.accounts.models import User
from crm.audit.choices import Action
from crm.audit.services import audit_records, snapshot
from crm.core.errors import DomainError, NotPermitted, RecordInUse, VersionConflict
from crm.core.services import record_create, record_create_many, record_delete, record_update, record_update_many

from .choices import PAID_STATUSES, PaymentKind, TransactionStatus
from .models import Payment, Product, Transaction

CENT = Decimal("0.01")


# ---------------------------------------------------------------------- products
def product_create(*, actor: Any, data: Mapping[str, Any]) -> Product:
    return record_create(model=Product, actor=actor, data=data)


def product_update(*, actor: Any, instance: Product, data: Mapping[str, Any], expected_version: int | None) -> Product:
    return record_update(instance=instance, actor=actor, data=data, expected_version=expected_version)


def product_delete(*, actor: Any, instance: Product, expected_version: int | None) -> None:
    """A product that was ever ordered is kept (409): deactivate it instead."""
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


# ------------------------------------------------------------------ transactions
def _complete(data: dict[str, Any], instance: Transaction | None) -> dict[str, Any]:
    """Fill what follows from the rest: prices, amount, payer's rep, payment stamps."""

    def value(name: str) -> Any:
        if name in data:
            return data[name]
        return getattr(instance, name) if instance is not None else None

    product: Product | None = value("product")
    if value("unit_price") is None and product is not None and ("product" in data or instance is None):
        data["unit_price"] = product.list_price
    if value("amount") is None or (
        instance is not None and "amount" not in data and ("quantity" in data or "unit_price" in data)
    ):
        unit_price, quantity = value("unit_price"), value("quantity") or Decimal("1")
        if unit_price is None:
            raise DomainError(
                _("Give the amount, or a unit price or product to compute it from."),
                field_errors={"amount": [_("This field is required when there is no unit price.")]},
            )
        data["amount"] = (Decimal(unit_price) * Decimal(quantity)).quantize(CENT, rounding=ROUND_HALF_UP)
    if instance is None and not data.get("currency"):
        data["currency"] = product.currency if product is not None else "CNY"
    if instance is None and data.get("sales_rep") is None:
        data["sales_rep"] = data["customer"].owner

    status = value("status")
    previous = instance.status if instance is not None else None
    if status == TransactionStatus.REFUNDED and previous not in {*PAID_STATUSES, TransactionStatus.REFUNDED}:
        raise DomainError(
            _("Only a paid, shipped or completed order can be refunded."),
            field_errors={"status": [_("This order was never paid.")]},
        )
    paid_amount, amount = value("paid_amount"), value("amount")
    if paid_amount is not None and amount is not None and Decimal(paid_amount) > Decimal(amount):
        raise DomainError(
            _("The paid amount cannot exceed the order amount."),
            field_errors={"paid_amount": [_("More than the order amount of %(amount)s.") % {"amount": amount}]},
        )
    return data


@transaction.atomic
def transaction_create(*, actor: Any, data: Mapping[str, Any]) -> Transaction:
    """Record an order.  The amount defaults to quantity × unit price (the product's list
    price when none is given); marking it paid or completed stamps the payment."""
    data = dict(data)
    if data.get("external_ref") and scoped_lookup(
        Transaction, actor, source=data.get("source") or "", external_ref=data["external_ref"]
    ):
        # The partial unique constraint is the guarantee; this gives the usual case a clear
        # message.  A reference held by an order the actor may not see is a bare 409.
        raise DomainError(
            _("An order with this external reference already exists for this source; use upsert to update it."),
            field_errors={"external_ref": [_("Already used for source %(source)s.") % {"source": data.get("source")}]},
        )
    return _insert(actor=actor, data=data)


def _insert(*, actor: Any, data: dict[str, Any]) -> Transaction:
    data = _complete(data, None)
    wish = _payment_wish(data, None)
    order = record_create(model=Transaction, actor=actor, data=data)
    return _settle(actor=actor, orders=[(order, wish)])[0]


@transaction.atomic
def transaction_create_many(*, actor: Any, rows: Sequence[Mapping[str, Any]]) -> list[Transaction]:
    """:func:`transaction_create` for many orders at once (an import's chunk), in a few
    statements.  An external reference already taken is refused by the partial unique
    constraint (the import then writes the chunk row by row, which names the row)."""
    given = [dict(data) for data in rows]
    owners = User.objects.in_bulk(
        {data["customer"].owner_id for data in given if data.get("sales_rep") is None and data.get("customer")}
    )
    prepared: list[dict[str, Any]] = []
    wishes: list[_PaymentWish | None] = []
    for index, data in enumerate(given):
        if data.get("sales_rep") is None and data.get("customer") is not None:
            data["sales_rep"] = owners.get(data["customer"].owner_id)
        try:
            prepared.append(_complete(data, None))
            wishes.append(_payment_wish(prepared[-1], None))
        except DomainError as error:
            error.row_index = index
            raise
    orders = record_create_many(model=Transaction, actor=actor, rows=prepared)
    return _settle(actor=actor, orders=list(zip(orders, wishes, strict=True)))


@transaction.atomic
def transaction_update_many(
    *, actor: Any, changes: Sequence[tuple[Transaction, Mapping[str, Any], int | None]]
) -> list[Transaction | None]:
    """:func:`transaction_update` for many orders at once (an import's chunk)."""
    prepared = []
    wishes: list[_PaymentWish | None] = []
    for index, (instance, data, version) in enumerate(changes):
        try:
            completed = _complete(dict(data), instance)
            wishes.append(_payment_wish(completed, instance))
            prepared.append((instance.pk, completed, version))
        except DomainError as error:
            error.row_index = index
            raise
    written = record_update_many(model=Transaction, actor=actor, changes=prepared)
    settled = _settle(
        actor=actor,
        orders=[
            (order or instance, wish) for order, (instance, _d, _v), wish in zip(written, changes, wishes, strict=True)
        ],
    )
    return [
        order if (order is not None or wish is not None) else None for order, wish in zip(settled, wishes, strict=True)
    ]


@transaction.atomic
def transaction_update(
    *, actor: Any, instance: Transaction, data: Mapping[str, Any], expected_version: int | None
) -> Transaction:
    """Change an order; a paid amount or a payment status given is recorded as a payment
    (see the module's docstring), so the status still follows the payments."""
    completed = _complete(dict(data), instance)
    wish = _payment_wish(completed, instance)
    order = record_update(instance=instance, actor=actor, data=completed, expected_version=expected_version)
    return _settle(actor=actor, orders=[(order, wish)])[0]


@transaction.atomic
def transaction_delete(*, actor: Any, instance: Transaction, expected_version: int | None) -> None:
    """An order with payment records that people recorded is kept (409) until they are
    reversed or removed: the money it received must stay accounted for.  The records
    made from the order's own paid figures (an integration's, an import's) go with it."""
    order = _locked_order(instance)
    if expected_version is not None and order.version != expected_version:
        raise VersionConflict(current_version=order.version)
    payments = list(Payment.objects.filter(order=order).order_by("-id"))
    if any(not payment.from_order for payment in payments):
        raise RecordInUse(_("This order has payment records; reverse or remove them before deleting the order."))
    for payment in payments:
        record_delete(instance=payment, actor=actor, expected_version=None)
    record_delete(instance=order, actor=actor, expected_version=None)


@transaction.atomic
def transaction_upsert(*, actor: Any, data: Mapping[str, Any]) -> tuple[Transaction, bool]:
    """Create the order an external system knows by ``(source, external_ref)``, or update it.

    The external system is the source of truth for its orders, so no version is needed.
    The reference is looked up within the actor's record scope: an integration whose
    token sees every customer finds every order; a rep finds only their customers'
    orders, and a reference held by an order they may not see is refused as taken (409)
    before anything about that order is read or checked.  Two concurrent calls for the
    same reference end with one row: the loser of the race hits the unique constraint
    and applies its data as an update instead.
    """
    source, ref = data.get("source") or "", data.get("external_ref") or ""
    if not source or not ref:
        missing = [name for name, value in (("source", source), ("external_ref", ref)) if not value]
        raise DomainError(
            _("An upsert needs both source and external_ref."),
            field_errors={name: [_("This field is required.")] for name in missing},
        )
    for _attempt in range(2):
        existing = scoped_lookup(Transaction, actor, source=source, external_ref=ref)
        if existing is not None:
            changes = {k: v for k, v in data.items() if k not in ("source", "external_ref")}
            return transaction_update(actor=actor, instance=existing, data=changes, expected_version=None), False
        try:
            with transaction.atomic():
                return _insert(actor=actor, data=dict(data)), True
        except (IntegrityError, ValidationError):
            # Created meanwhile by a concurrent call (seen by validation or by the unique
            # index): update it instead.  Any other invalid data is the caller's to fix.
            if scoped_lookup(Transaction, actor, source=source, external_ref=ref) is None:
                raise
    raise DomainError(_("The order could not be saved; try again."))


# ---------------------------------------------------------------------- payments
@dataclass(frozen=True)
class _PaymentWish:
    """The payment record an order's write asks for: ``amount`` signed, of ``kind``."""

    kind: str
    amount: Decimal
    paid_on: dt.date | None
    reason: str = ""


def _payment_wish(data: dict[str, Any], instance: Transaction | None) -> _PaymentWish | None:
    """Take the paid figures and the payment statuses out of an order's data and say which
    payment record brings the order there (None: none is needed).

    * ``paid_amount`` given: a payment (or a reversal, when lower) of the difference to
      the net paid amount now;
    * status "paid" or "completed" without a paid amount: a payment of what is still owed;
    * status "refunded": a refund of everything paid.

    The statuses "paid" and "refunded" are then left to the payments to set.
    """
    amount = Decimal(data["amount"] if data.get("amount") is not None else (instance.amount if instance else 0))
    paid = instance.paid_amount if instance is not None else Decimal("0")
    refunded = instance.refunded_amount if instance is not None else Decimal("0")
    target = data.pop("paid_amount", None)
    paid_on = data.pop("paid_date", None)
    status = data.get("status")
    if status in (TransactionStatus.PAID, TransactionStatus.REFUNDED):
        data.pop("status")
    if status == TransactionStatus.REFUNDED:
        if paid <= 0:
            return None
        return _PaymentWish(PaymentKind.REFUND, -paid, paid_on, _("Refunded: the order's status was set to refunded."))
    if target is None and status in (TransactionStatus.PAID, TransactionStatus.COMPLETED):
        target = max(amount - refunded, paid)
    if target is None or Decimal(target) == paid:
        return None
    difference = Decimal(target) - paid
    if difference > 0:
        return _PaymentWish(PaymentKind.PAYMENT, difference, paid_on)
    reason = _("The paid amount was set to %(amount)s.") % {"amount": target}
    return _PaymentWish(PaymentKind.REVERSAL, difference, paid_on, reason)


def _check_may_record(actor: Any) -> None:
    """Recording payments is the registry's ``create`` on ``payments`` and the field
    policy's write level on their amount; the system itself (no actor) may."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return
    if not may(actor, CREATE, "payments") or policy_for(actor).level("payments", "amount") < Level.WRITE:
        raise NotPermitted(_("You may not record payments."))


def _settle(*, actor: Any, orders: Sequence[tuple[Transaction, _PaymentWish | None]]) -> list[Transaction]:
    """Record the payments the orders' writes asked for, in one statement, and return the
    orders as the payments left them (each change of an order audited)."""
    wanted = [(order, wish) for order, wish in orders if wish is not None]
    if not wanted:
        return [order for order, _wish in orders]
    _check_may_record(actor)
    today = timezone.localdate()
    recorder = actor if isinstance(actor, User) else None
    rows = [
        {
            "customer": order.customer,
            "order": order,
            "kind": wish.kind,
            "amount": wish.amount,
            "paid_on": wish.paid_on or today,
            "method": order.payment_method,
            "reference": order.external_ref,
            "reason": wish.reason,
            "recorded_by": recorder,
            "from_order": True,
        }
        for order, wish in wanted
    ]
    befores = {order.pk: snapshot(order) for order, _wish in wanted}
    record_create_many(model=Payment, actor=actor, rows=rows)
    fresh = _audit_followed(actor=actor, befores=befores)
    return [fresh.get(order.pk, order) for order, _wish in orders]


def _audit_followed(*, actor: Any, befores: Mapping[int, dict[str, Any]]) -> dict[int, Transaction]:
    """Read back the orders whose payments were written and audit what followed on each
    (paid amount, date, state, status) as an update of the order."""
    fresh = Transaction.objects.select_related("customer", "product", "sales_rep").in_bulk(list(befores))
    changed = [order for pk, order in fresh.items() if snapshot(order) != befores[pk]]
    audit_records(
        action=Action.UPDATE,
        instances=changed,
        actor=actor,
        befores=[befores[order.pk] for order in changed],
        afters=[snapshot(order) for order in changed],
    )
    return fresh


def _locked_order(order: Transaction) -> Transaction:
    return Transaction.objects.select_for_update().select_related("customer").get(pk=order.pk)


@transaction.atomic
def payment_create(*, actor: Any, data: Mapping[str, Any]) -> Payment:
    """Record a payment on an order (a positive amount) or a refund (a negative one, with
    its reason), as the actor.

    The order is locked first, so two payments of one order at once are checked one after
    the other: a payment may not exceed what is still owed, a refund may not give back
    more than was paid, and a cancelled order takes no payment.  The order's figures and
    status then follow (the database does it); the change of the order is audited too.
    """
    data = dict(data)
    order = _locked_order(data["order"])
    if data.get("customer") is not None and data["customer"].pk != order.customer_id:
        raise DomainError(
            _("The order belongs to another customer."),
            field_errors={"order": [_("This order belongs to another customer.")]},
        )
    amount = Decimal(data.get("amount") or 0)
    outstanding = order.amount - order.refunded_amount - order.paid_amount
    if amount > 0 and order.status == TransactionStatus.CANCELLED:
        raise DomainError(
            _("A cancelled order takes no payment."),
            field_errors={"order": [_("This order was cancelled.")]},
        )
    if amount > 0 and amount > outstanding:
        raise DomainError(
            _("This payment is more than the order still owes."),
            field_errors={
                "amount": [_("At most %(outstanding)s is still owed.") % {"outstanding": max(outstanding, 0)}]
            },
        )
    if amount < 0 and -amount > order.paid_amount:
        raise DomainError(
            _("A refund cannot give back more than was paid."),
            field_errors={"amount": [_("At most %(paid)s was paid.") % {"paid": order.paid_amount}]},
        )
    data.update(
        customer=order.customer,
        order=order,
        kind=PaymentKind.REFUND if amount < 0 else PaymentKind.PAYMENT,
        recorded_by=actor if isinstance(actor, User) else None,
    )
    data.pop("reverses", None)
    if not data.get("paid_on"):
        data["paid_on"] = timezone.localdate()
    if not data.get("method"):
        data["method"] = order.payment_method
    before = {order.pk: snapshot(order)}
    payment = record_create(model=Payment, actor=actor, data=data)
    _audit_followed(actor=actor, befores=before)
    return payment


@transaction.atomic
def payment_reverse(*, actor: Any, instance: Payment, reason: str, paid_on: dt.date | None = None) -> Payment:
    """Undo a payment that did not happen after all (bounced, on the wrong order): a new
    reversal record of the opposite amount, pointing at it.  A payment is reversed once;
    a refund or a reversal is not reversed (remove it instead).  The order is owed the
    money again and its status follows (a paid order is pending again)."""
    order = _locked_order(instance.order)
    payment = Payment.objects.select_for_update().get(pk=instance.pk)
    if payment.kind != PaymentKind.PAYMENT:
        raise DomainError(_("Only a payment can be reversed; remove a wrong refund or reversal instead."))
    if payment.reversals.exists():  # type: ignore[attr-defined]
        raise DomainError(_("This payment has already been reversed."))
    if payment.amount > order.paid_amount:
        raise DomainError(_("Reversing this payment would leave the order refunded more than paid."))
    if not (reason or "").strip():
        raise DomainError(
            _("A refund or a reversal needs a reason."), field_errors={"reason": [_("This field is required.")]}
        )
    before = {order.pk: snapshot(order)}
    reversal = record_create(
        model=Payment,
        actor=actor,
        data={
            "customer": order.customer,
            "order": order,
            "kind": PaymentKind.REVERSAL,
            "amount": -payment.amount,
            "paid_on": paid_on or timezone.localdate(),
            "method": payment.method,
            "reference": payment.reference,
            "reason": reason.strip(),
            "reverses": payment,
            "recorded_by": actor if isinstance(actor, User) else None,
        },
    )
    _audit_followed(actor=actor, befores=before)
    return reversal


@transaction.atomic
def payment_delete(*, actor: Any, instance: Payment, expected_version: int | None) -> None:
    """Remove a payment record entered in error (a manager's act, audited); the order's
    figures follow.  A payment that was reversed keeps its reversal: remove that first.
    Removing a payment that a refund relied on is refused (the order would show more
    refunded than paid)."""
    order = _locked_order(instance.order)
    if Payment.objects.filter(reverses=instance).exists():
        raise RecordInUse(_("This payment was reversed; remove its reversal first."))
    if instance.kind == PaymentKind.PAYMENT and instance.amount > order.paid_amount:
        raise DomainError(_("Removing this payment would leave the order refunded more than paid."))
    before = {order.pk: snapshot(order)}
    record_delete(instance=instance, actor=actor, expected_version=expected_version)
    _audit_followed(actor=actor, befores=before)
