"""Admin pages of tiers; tier history is read-only there as everywhere."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm.core.admin import AuditedModelAdmin

from .models import Tier, TierChange


@admin.register(Tier)
class TierAdmin(AuditedModelAdmin):
    list_display = ("rank", "code", "name_zh", "name_en", "min_score", "colour")
    ordering = ("rank",)


@admin.register(TierChange)
class TierChangeAdmin(AuditedModelAdmin):
    list_display = ("changed_at", "customer", "from_tier", "to_tier", "kind", "changed_by")
    list_filter = ("kind", "to_tier")
    search_fields = ("customer__name", "reason")
    list_select_related = ("customer", "from_tier", "to_tier", "changed_by")
    readonly_fields = ("created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
