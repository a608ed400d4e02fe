"""Admin pages of products and orders; writes are audited through AuditedModelAdmin."""

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin

from .models import Product, Transaction


@admin.register(Product)
class ProductAdmin(AuditedModelAdmin):
    list_display = ("sku", "name", "category", "list_price", "currency", "active")
    list_filter = ("active", "is_service", "category")
    search_fields = ("sku", "name")


@admin.register(Transaction)
class TransactionAdmin(AuditedModelAdmin):
    list_display = ("order_date", "customer", "product", "amount", "currency", "status", "due_date", "paid_amount")
    list_filter = ("status", "payment_method", "currency", "source")
    search_fields = ("customer__name", "external_ref", "description")
    raw_id_fields = ("customer", "product", "sales_rep")
    list_select_related = ("customer", "product")
    date_hierarchy = "order_date"
