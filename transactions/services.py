"""Orders and payments: amounts that add up, payment states that follow the money.

Every function is one transaction and is audited through ``crm.core.services``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.access.scope import scoped_lookup
from crm.accounts.models import User
from crm.core.errors import DomainError
from crm.core.services import record_create, record_create_many, record_delete, record_update, record_update_many

from .choices import PAID_STATUSES, TransactionStatus
from .models import Product, Transaction

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
    if status in (TransactionStatus.PAID, TransactionStatus.COMPLETED):
        if not value("paid_date"):
            data["paid_date"] = timezone.localdate()
        if "paid_amount" not in data and not (instance and instance.paid_amount):
            data["paid_amount"] = value("amount")
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
    return record_create(model=Transaction, actor=actor, data=_complete(data, None))


@transaction.atomic
def transaction_create_many(*, actor: Any, rows: Sequence[Mapping[str, Any]]) -> list[Transaction]:
    """:func:`transaction_create` for many orders at once (an import's chunk), in a few
    statements.  An external reference already taken is refused by the partial unique
    constraint (the import then writes the chunk row by row, which names the row)."""
    given = [dict(data) for data in rows]
    owners = User.objects.in_bulk(
        {data["customer"].owner_id for data in given if data.get("sales_rep") is None and data.get("customer")}
    )
    prepared = []
    for index, data in enumerate(given):
        if data.get("sales_rep") is None and data.get("customer") is not None:
            data["sales_rep"] = owners.get(data["customer"].owner_id)
        try:
            prepared.append(_complete(data, None))
        except DomainError as error:
            error.row_index = index
            raise
    return record_create_many(model=Transaction, actor=actor, rows=prepared)


@transaction.atomic
def transaction_update_many(
    *, actor: Any, changes: Sequence[tuple[Transaction, Mapping[str, Any], int | None]]
) -> list[Transaction | None]:
    """:func:`transaction_update` for many orders at once (an import's chunk)."""
    prepared = []
    for index, (instance, data, version) in enumerate(changes):
        try:
            prepared.append((instance.pk, _complete(dict(data), instance), version))
        except DomainError as error:
            error.row_index = index
            raise
    return record_update_many(model=Transaction, actor=actor, changes=prepared)


@transaction.atomic
def transaction_update(
    *, actor: Any, instance: Transaction, data: Mapping[str, Any], expected_version: int | None
) -> Transaction:
    return record_update(
        instance=instance, actor=actor, data=_complete(dict(data), instance), expected_version=expected_version
    )


def transaction_delete(*, actor: Any, instance: Transaction, expected_version: int | None) -> None:
    record_delete(instance=instance, actor=actor, expected_version=expected_version)


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
