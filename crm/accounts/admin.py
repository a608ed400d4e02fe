"""Users, teams and tokens in the admin site; every save is audited."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest

from crm.core.admin import AuditedModelAdmin, InputRulesMixin
from crm.core.services import record_delete, record_save

from .models import APIToken, Team, User


class UserEditForm(InputRulesMixin, UserChangeForm):  # type: ignore[type-arg]
    """Django's user form, keeping the CRM's input rules."""


class UserAddForm(InputRulesMixin, AdminUserCreationForm):  # type: ignore[type-arg]
    """Django's new-user form, keeping the CRM's input rules."""


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    list_display = ("username", "get_full_name", "role", "team", "email", "is_active")
    list_filter = ("role", "team", "is_active", "is_staff")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("CRM", {"fields": ("role", "team", "title", "phone")}),
    )
    add_fieldsets = (
        *(BaseUserAdmin.add_fieldsets or ()),
        ("CRM", {"fields": ("role", "team")}),
    )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        record_save(instance=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record_delete(instance=obj, actor=request.user, expected_version=None)


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("name", "region", "manager")
    search_fields = ("name",)
    raw_id_fields = ("manager",)


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "key_hash", "scopes", "created_at", "last_used_at")
    fields = (*readonly_fields, "expires_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are issued with create_api_token or the API, which show them once

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        record_save(instance=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        record_delete(instance=obj, actor=request.user, expected_version=None)
