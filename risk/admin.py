"""Admin pages of risk rules and alerts; writes are audited through AuditedModelAdmin."""

from django.contrib import admin
from django.http import HttpRequest

from crm.core.admin import AuditedModelAdmin

from .models import RiskAlert, RiskRule, RiskScan, RiskSettings


@admin.register(RiskRule)
class RiskRuleAdmin(AuditedModelAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "severity", "enabled")
    filter_horizontal = ("tiers",)
    list_filter = ("kind", "severity", "enabled")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(RiskAlert)
class RiskAlertAdmin(AuditedModelAdmin):
    list_display = ("raised_at", "customer", "rule", "severity", "status", "assignee")
    list_filter = ("status", "severity", "rule")
    search_fields = ("customer__name", "title", "subject")
    raw_id_fields = ("customer", "assignee")
    list_select_related = ("customer", "rule", "assignee")


@admin.register(RiskSettings)
class RiskSettingsAdmin(AuditedModelAdmin):
    """The daily scan time, the SLA hours by severity and the digest switch (one row)."""

    list_display = ("scan_time", "sla_hours", "digest_enabled", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RiskSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RiskScan)
class RiskScanAdmin(admin.ModelAdmin):
    """Scans are started from the command or the schedule and only read here."""

    list_display = ("id", "state", "trigger", "as_of", "finished_at")
    list_filter = ("state", "trigger")
    readonly_fields = ("state", "trigger", "requested_by", "as_of", "started_at", "finished_at", "summary", "error")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the history of scans, which the alerts they raised point to
