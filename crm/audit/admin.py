"""The audit trail in the admin site: read only, like everywhere else."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm.access.scope import scoped_queryset

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "occurred_at", "actor_label", "source", "action", "resource", "object_repr")
    list_filter = ("action", "source", "resource")
    search_fields = ("object_repr", "actor_label", "request_id")
    ordering = ("-seq",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return scoped_queryset(AuditEvent, request.user).order_by("-seq")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
