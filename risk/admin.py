"""Admin pages of risk rules and alerts; writes are audited through AuditedModelAdmin."""

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin

from .models import RiskAlert, RiskRule


@admin.register(RiskRule)
class RiskRuleAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "severity", "enabled")
    list_filter = ("kind", "severity", "enabled")
    search_fields = ("code", "name")


@admin.register(RiskAlert)
class RiskAlertAdmin(AuditedModelAdmin):
    list_display = ("raised_at", "customer", "rule", "severity", "status", "assignee")
    list_filter = ("status", "severity", "rule")
    search_fields = ("customer__name", "title", "subject")
    raw_id_fields = ("customer", "assignee")
    list_select_related = ("customer", "rule", "assignee")
