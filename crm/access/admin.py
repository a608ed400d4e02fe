"""Field permissions in the admin site."""

from django.contrib import admin

from crm.core.admin import AuditedModelAdmin

from .models import FieldPermission


@admin.register(FieldPermission)
class FieldPermissionAdmin(AuditedModelAdmin):
    list_display = ("resource", "field", "role", "level")
    list_filter = ("resource", "role", "level")
