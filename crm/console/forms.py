"""Forms of the admin console.  They only convert input; the services decide and audit."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.accounts.choices import Role
from crm.accounts.models import Team, User
from crm.audit.choices import Action, Source
from crm.core.forms import VersionedForm


class UserForm(VersionedForm):
    password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password. A new user without one cannot sign in."),
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "team", "phone", "title", "is_active"]

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if self.cleaned_data.get("password"):
            data["password"] = self.cleaned_data["password"]
        return data


class TeamForm(VersionedForm):
    class Meta:
        model = Team
        fields = ["name", "manager", "region"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.fields["manager"]
        manager.queryset = User.objects.filter(role=Role.MANAGER, is_active=True)  # type: ignore[attr-defined]


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices])
    team = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.all(), empty_label=_("All teams")
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", pgettext_lazy("user", "Active")), ("0", _("Deactivated"))],
    )


class APITokenForm(forms.Form):
    """A new token: whose it is, what it may touch, and until when."""

    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.filter(is_active=True))
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. ERP sync."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple, choices=(), help_text=_("write includes read.")
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a token that does not expire."),
    )

    def __init__(self, *args: Any, resources: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("read", _("read: every resource")), ("write", _("write: every resource"))]
        choices += [(f"{r}:{mode}", f"{r}:{mode}") for r in resources for mode in ("read", "write")]
        self.fields["scopes"].choices = choices  # type: ignore[attr-defined]

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return day

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class AuditFilterForm(forms.Form):
    """Filters of the audit log; every one narrows an indexed column."""

    actor = forms.CharField(label=_("Actor"), required=False, help_text=_("User name"))
    resource = forms.ChoiceField(label=_("Resource"), required=False)
    customer = forms.CharField(label=_("Customer"), required=False, help_text=_("Customer code or id"))
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("All")), *Action.choices])
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", _("All")), *Source.choices])
    since = forms.DateTimeField(
        label=_("From"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        label=_("To"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, resources: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [("", _("All")), *resources]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end is before the start."))
        return cleaned
