"""Filters of orders and products."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from crm.access.scope import few_by_nature
from crm.core.filtersets import ChoicesFilter

from ..choices import PaymentKind, PaymentMethod, PaymentState, TransactionStatus
from ..models import Payment, Product, Transaction
from ..selectors import overdue_condition


class ProductFilterSet(filters.FilterSet):
    class Meta:
        model = Product
        fields = ("category", "active", "is_service", "currency")


class TransactionFilterSet(filters.FilterSet):
    status = ChoicesFilter(choices=TransactionStatus.choices)
    payment_state = ChoicesFilter(choices=PaymentState.choices)
    payment_method = ChoicesFilter(choices=PaymentMethod.choices)
    order_date_after = filters.DateFilter(field_name="order_date", lookup_expr="gte")
    order_date_before = filters.DateFilter(field_name="order_date", lookup_expr="lte")
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte")
    overdue = filters.BooleanFilter(method="filter_overdue", label="overdue")

    policy_fields = {"overdue": ("due_date", "status", "paid_amount", "amount")}

    class Meta:
        model = Transaction
        fields = ("customer", "product", "currency", "source", "external_ref", "sales_rep")

    def filter_overdue(self, queryset: QuerySet[Transaction], name: str, value: bool | None) -> QuerySet[Transaction]:
        if value is None:
            return queryset
        if value:  # the receivables past due: few, and read whole before they are sorted
            return few_by_nature(queryset.filter(overdue_condition()))
        return queryset.exclude(overdue_condition())


class PaymentFilterSet(filters.FilterSet):
    kind = ChoicesFilter(choices=PaymentKind.choices)
    method = ChoicesFilter(choices=PaymentMethod.choices)
    paid_on_after = filters.DateFilter(field_name="paid_on", lookup_expr="gte")
    paid_on_before = filters.DateFilter(field_name="paid_on", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = ("order", "customer", "recorded_by", "reverses")
