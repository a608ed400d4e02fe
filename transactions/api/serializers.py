"""Order and product serializers: shape and type; the rules are in services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.access.serializers import FieldPolicySerializerMixin
from crm.accounts.models import User
from crm.core.api import ScopedPrimaryKeyRelatedField
from customers.models import Customer

from ..choices import PaymentMethod
from ..models import Payment, Product, Transaction

STAMPS = ("version", "created_at", "updated_at")


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = (
            "id",
            "sku",
            "name",
            "category",
            "unit",
            "list_price",
            "currency",
            "is_service",
            "active",
            "description",
            *STAMPS,
        )
        read_only_fields = STAMPS
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"sku": {"validators": []}}


class TransactionSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "transactions"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    product = ScopedPrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)
    product_name = serializers.CharField(source="product.name", read_only=True, default=None)
    sales_rep = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    outstanding = serializers.DecimalField(label=_("outstanding"), max_digits=14, decimal_places=2, read_only=True)
    is_overdue = serializers.BooleanField(label=_("overdue"), read_only=True)

    class Meta:
        model = Transaction
        fields = (
            "id",
            "customer",
            "customer_name",
            "product",
            "product_name",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "currency",
            "order_date",
            "payment_method",
            "status",
            "due_date",
            "paid_date",
            "paid_amount",
            "refunded_amount",
            "payment_state",
            "outstanding",
            "is_overdue",
            "source",
            "external_ref",
            "sales_rep",
            "notes",
            *STAMPS,
        )
        read_only_fields = STAMPS
        validators: list[Any] = []


class PaymentSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    """A payment record: a positive amount is a payment, a negative one a refund (with
    its reason).  Records are not edited; a wrong payment is reversed."""

    policy_resource = "payments"

    order = ScopedPrimaryKeyRelatedField(queryset=Transaction.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid_on = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)

    class Meta:
        model = Payment
        fields = (
            "id",
            "order",
            "customer",
            "customer_name",
            "kind",
            "paid_on",
            "amount",
            "method",
            "reference",
            "reason",
            "reverses",
            "recorded_by",
            "notes",
            *STAMPS,
        )
        read_only_fields = ("customer", "kind", "reverses", "recorded_by", *STAMPS)
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A payment takes its customer from its order; a writer that also names the
        customer is refused when the order belongs to another one."""
        attrs = super().validate(attrs)
        named = self.initial_data.get("customer") if hasattr(self.initial_data, "get") else None
        order = attrs.get("order")
        if named not in (None, "") and order is not None and str(named) != str(order.customer_id):
            raise serializers.ValidationError({"order": [_("This order belongs to another customer.")]})
        return attrs


class PaymentReverseSerializer(serializers.Serializer):
    """Why a payment is reversed, and when (today unless given)."""

    reason = serializers.CharField(max_length=200)
    paid_on = serializers.DateField(required=False)
