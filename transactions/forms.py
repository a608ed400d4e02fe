"""HTML forms of orders and payments."""

from __future__ import annotations

from typing import Any

from django import forms

from crm.core.forms import RecordForm, formfield

from .models import Product, Transaction


class TransactionForm(RecordForm):
    """An order: give a product and quantity (the price comes from the product) or an amount."""

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
