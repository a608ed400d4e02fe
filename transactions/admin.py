"""Admin pages of products and orders; writes are audited through AuditedModelAdmin."""

from typing import Any

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin

from .models import Payment, Product, Transaction


@admin.register(Product)
class ProductAdmin(AuditedModelAdmin):
    list_display = ("sku", "name", "category", "list_price", "currency", "active")
    list_filter = ("active", "is_service", "category")
    search_fields = ("sku", "name")


@admin.register(Transaction)
class TransactionAdmin(AuditedModelAdmin):
    list_display = (
        "order_date", "customer", "product", "amount", "currency", "status", "payment_state", "due_date", "paid_amount",
    )  # fmt: skip
    readonly_fields = ("paid_amount", "refunded_amount", "paid_date")
    list_filter = ("status", "payment_method", "currency", "source")
    search_fields = ("customer__name", "external_ref", "description")
    raw_id_fields = ("customer", "product", "sales_rep")
    list_select_related = ("customer", "product")
    date_hierarchy = "order_date"


@admin.register(Payment)
class PaymentAdmin(AuditedModelAdmin):
    """Payment records are read here; they are recorded, reversed and removed through the
    pages and the API, whose services check the order's balance."""

    list_display = ("paid_on", "customer", "order", "kind", "amount", "method", "reference", "recorded_by")
    list_filter = ("kind", "method")
    search_fields = ("customer__name", "reference", "reason")
    list_select_related = ("customer", "order", "recorded_by")
    date_hierarchy = "paid_on"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
