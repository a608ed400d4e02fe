"""HTML forms of orders and payments."""

from __future__ import annotations

from typing import Any

from django import forms

from crm.access.policy import Level
from crm.core.forms import RecordForm, formfield

from .choices import PAYMENT_STATUSES
from .models import Payment, Product, Transaction


class TransactionForm(RecordForm):
    """An order: give a product and quantity (the price comes from the product) or an amount.

    The paid figures are shown, never entered here, and the statuses "paid" and
    "refunded" are not offered: they follow the order's payment records (record a
    payment or a refund in the payments section)."""

    #: Shown read-only: the payment records decide them.
    followed = ("paid_date", "paid_amount")

    policy_resource = "transactions"

    class Meta:
        model = Transaction
        formfield_callback = formfield
        fields = [
            "order_date", "product", "description", "quantity", "unit_price", "amount", "status", "payment_method",
            "due_date", "paid_date", "paid_amount", "external_ref", "notes",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "product" in self.fields and not self.fields["product"].disabled:
            self.fields["product"].queryset = Product.objects.filter(active=True).order_by("name")  # type: ignore[attr-defined]
        for name in ("quantity", "amount", "unit_price"):
            if name in self.fields and not self.fields[name].disabled:
                self.fields[name].required = False
        for name in self.followed:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].required = False
                self.levels[name] = min(self.levels[name], Level.READ)
        status = self.fields.get("status")
        if status is not None and not status.disabled:
            current = self.instance.status if self.instance.pk else None
            status.choices = [  # type: ignore[attr-defined]
                (value, label)
                for value, label in status.choices  # type: ignore[attr-defined]
                if value not in PAYMENT_STATUSES or value == current
            ]


class PaymentForm(RecordForm):
    """A payment of one of the customer's orders, or a refund (a negative amount, with
    its reason)."""

    policy_resource = "payments"

    class Meta:
        model = Payment
        formfield_callback = formfield
        fields = ["order", "paid_on", "amount", "method", "reference", "reason", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, customer: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, customer=customer, **kwargs)
        order = self.fields.get("order")
        if order is not None and not order.disabled and customer is not None:
            order.queryset = customer.transactions.exclude(status="cancelled").order_by("-order_date", "-id")  # type: ignore[attr-defined]
        if "paid_on" in self.fields:
            self.fields["paid_on"].required = False
