"""The base of every HTML form over a record: field policy, optimistic concurrency and
browser-friendly widgets, so each app's forms only list their fields."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.access.forms import PolicyFormMixin

from .errors import DomainError, VersionConflict
from .validation import field_problems

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def formfield(field: models.Field[Any, Any], **kwargs: Any) -> Any:
    """Model fields become inputs the phone's browser understands (date pickers, numeric
    keypads, e-mail keyboards); a web address typed without a scheme is taken as https."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    if isinstance(field, models.DateTimeField):
        kwargs.setdefault("widget", DATETIME)
    elif isinstance(field, models.DateField):
        kwargs.setdefault("widget", DATE)
    return field.formfield(**kwargs)


def require_version(field: forms.Field, instance: Any) -> None:
    """An edit form carries the version it was opened at, and a post without one is
    refused like a stale one: the pages never save over a record blind."""
    field.initial = instance.version
    field.required = True
    field.error_messages["required"] = _("This form does not say which version it edits; reload the page.")


def version_errors_on_top(form: forms.BaseForm) -> None:
    """The version is a hidden field: what is wrong with it is shown above the form."""
    errors: Any = form._errors  # type: ignore[attr-defined]
    problems = errors.pop("version", None) if errors else None
    if problems:
        form.add_error(None, problems)


class RecordForm(PolicyFormMixin, forms.ModelForm):
    """A form over one record of a governed resource.

    It carries the version the user started from (a stale save is a conflict, never an
    overwrite) and hands the service only the fields the user may write.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    #: Time fields the user may leave empty: the service stamps the current time.
    now_if_empty: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, customer: Any = None, **kwargs: Any) -> None:
        """``customer``: the customer the record belongs to; a ``contact`` field then
        offers only that customer's contacts."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        contact = self.fields.get("contact")
        if customer is not None and contact is not None and not contact.disabled:
            contact.queryset = customer.contacts.order_by("name")  # type: ignore[attr-defined]
        for name in self.now_if_empty:
            if name in self.fields:
                self.fields[name].required = False
        self.levels.pop("version", None)
        for name, field in self.fields.items():
            model_field = self._model_field(name)
            # A field with a default may be left empty: the default applies.
            if model_field is not None and model_field.has_default() and not field.disabled:
                field.required = False
            if isinstance(field.widget, forms.Select | forms.SelectMultiple):
                field.widget.attrs.setdefault("class", "form-select")
        if self.instance.pk:
            require_version(self.fields["version"], self.instance)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        version_errors_on_top(self)
        cleaned.pop("version", None)
        for name in list(cleaned):
            model_field = self._model_field(name)
            if model_field is not None and model_field.has_default() and cleaned[name] in (None, ""):
                if isinstance(model_field, models.BooleanField):
                    continue  # an unticked box is a real False
                cleaned.pop(name)
        return cleaned

    def _model_field(self, name: str) -> Any:
        try:
            return self._meta.model._meta.get_field(name)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - a form-only field
            return None

    def expected_version(self) -> int | None:
        value = self.data.get("version") if self.is_bound else None
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def _post_clean(self) -> None:
        """Each field's own rules of the model (its validators: a phone's shape ...) and the
        CRM's input rules, on the values the form read, so that a form with several bad
        fields says so for all of them at once rather than one round at a time.  The
        record as a whole (rules across fields, the fields the user may not write left as
        they are) is the services' to validate when saving."""
        for name, value in list(self.cleaned_data.items()):
            model_field = self._model_field(name)
            if model_field is None or not model_field.concrete or model_field.is_relation:
                continue
            try:
                model_field.run_validators(value)
            except ValidationError as error:
                self.add_error(name, error)
                continue
            for problem in field_problems(model_field, value):
                self.add_error(name, problem)


def show_refusal(form: forms.BaseForm, error: Exception) -> None:
    """Put a service's refusal on the form: at the fields it names, else at the top."""

    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for name, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        else:
            for problem in error.messages:
                form.add_error(None, problem)
        return
    if isinstance(error, DomainError):
        for name, problems in error.field_errors.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        if not error.field_errors or not any(name in form.fields for name in error.field_errors):
            form.add_error(None, error.message)


#: What ``submit`` answers for a refused form: invalid input or a rule broken, or a stale edit.
REFUSED, CONFLICT = 422, 409


def submit(form: forms.BaseForm, save: Any) -> tuple[Any, int]:
    """Validate ``form`` and, if it is valid, call ``save()`` (a service call).

    Returns ``(result, 200)`` when saved; otherwise ``(None, status)`` with the refusal on
    the form: 409 for a stale edit (the record changed since it was read), 422 for bad
    input or a business rule.  Every HTML form of a record goes through here.
    """

    if not form.is_valid():
        return None, REFUSED
    try:
        return save(), 200
    except VersionConflict as error:
        form.add_error(None, error.message)
        return None, CONFLICT
    except (DomainError, ValidationError) as error:
        show_refusal(form, error)
        return None, REFUSED


class VersionedForm(forms.ModelForm):
    """Carries the version the admin started from, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            require_version(self.fields["version"], self.instance)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        version_errors_on_top(self)
        return cleaned

    def service_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name in self._meta.fields}  # type: ignore[operator]
