"""Admin pages of the customer archive; every write is audited through AuditedModelAdmin."""

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin, RecordAdminForm

from .models import Activity, Contact, Customer, ServiceNeed


class ContactInline(admin.TabularInline):
    model = Contact
    form = RecordAdminForm
    extra = 0
    fields = ("name", "title", "department", "email", "mobile", "wechat", "is_primary")


@admin.register(Customer)
class CustomerAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "industry", "province", "city", "lifecycle_stage", "tier", "owner", "team")
    list_filter = ("lifecycle_stage", "industry", "region", "tier", "team")
    search_fields = ("code", "name", "short_name", "tax_id", "city")
    raw_id_fields = ("owner",)
    list_select_related = ("tier", "owner", "team")
    readonly_fields = (
        "tier",
        "tier_score",
        "tier_since",
        "tier_below_since",
        "tier_override_until",
        "consent_updated_at",
    )
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(AuditedModelAdmin):
    list_display = ("name", "customer", "title", "mobile", "email", "is_primary")
    list_filter = ("is_primary", "is_decision_maker")
    search_fields = ("name", "mobile", "email", "customer__name")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)


@admin.register(Activity)
class ActivityAdmin(AuditedModelAdmin):
    list_display = ("subject", "customer", "kind", "assignee", "due_at", "done")
    list_filter = ("kind", "done")
    search_fields = ("subject", "customer__name")
    raw_id_fields = ("customer", "contact", "assignee")
    list_select_related = ("customer", "assignee")


@admin.register(ServiceNeed)
class ServiceNeedAdmin(AuditedModelAdmin):
    list_display = ("title", "customer", "kind", "priority", "status", "due_date")
    list_filter = ("kind", "priority", "status")
    search_fields = ("title", "customer__name")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
