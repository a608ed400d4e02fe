"""The admin site's base class: every save and delete made there is audited like any other write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from crm.access.scope import scoped_queryset

from .services import record_delete, record_save
from .validation import record_validate


class InputRulesMixin:
    """Mix into an admin form so that it also keeps the CRM's input rules
    (``crm.core.validation``): a date out of range or a NUL in a text is shown at its
    field, as the model's own rules are, instead of failing on save."""

    instance: Any
    fields: Any
    changed_data: Any

    def _post_clean(self) -> None:  # type: ignore[misc] # where Django checks the model's own rules
        super()._post_clean()  # type: ignore[misc]
        names = list(self.fields) if self.instance._state.adding else self.changed_data
        try:
            record_validate(instance=self.instance, fields=[name for name in names if name in self.fields])
        except ValidationError as error:
            self.add_error(None, error)  # type: ignore[attr-defined]


class RecordAdminForm(InputRulesMixin, forms.ModelForm):
    """The form of every audited admin page."""


class AuditedModelAdmin(admin.ModelAdmin):
    """Admin pages that write through the audited services and list only what the user may see."""

    form = RecordAdminForm
    # Web addresses typed without a scheme are taken as https, as browsers do today.
    formfield_overrides = {models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Stamps and the version are kept by the services, never typed in.
        own = tuple(super().get_readonly_fields(request, obj))
        names = {field.name for field in self.model._meta.get_fields()}
        return own + tuple(
            name for name in ("version", "created_at", "updated_at") if name in names and name not in own
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = scoped_queryset(self.model, request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        record_save(instance=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        record_delete(instance=obj, actor=request.user, expected_version=None)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows are records too: each one written or removed here is audited.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            record_delete(instance=obj, actor=request.user, expected_version=None)
        for obj in instances:
            record_save(instance=obj, actor=request.user)
        formset.save_m2m()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            record_delete(instance=obj, actor=request.user, expected_version=None)
