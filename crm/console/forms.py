"""Forms of the admin console.  They only convert input; the services decide and audit."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.choices import Role
from crm.accounts.models import Team, User
from crm.audit.choices import Action, Source
from crm.core.forms import require_version, version_errors_on_top


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
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))],
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


class ScoringPolicyForm(forms.ModelForm):
    """The scoring policy's settings, and one threshold field per tier."""

    note = forms.CharField(label=_("What changed"), max_length=200, required=False)

    class Meta:
        from tiers.models import ScoringPolicy

        model = ScoringPolicy
        fields = [
            "window_days", "spend_weight", "spend_cap", "orders_weight", "orders_cap", "tenure_weight",
            "tenure_cap_years", "influence_weight", "satisfaction_weight", "grace_days", "period",
            "churn_after_days", "key_account_tier",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from tiers.models import Tier

        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.tiers = list(Tier.objects.order_by("rank"))
        thresholds = self.instance.thresholds or {}
        for tier in self.tiers:
            self.fields[f"threshold_{tier.code}"] = forms.DecimalField(
                label=str(tier), min_value=0, max_value=100, decimal_places=2, required=False,
                initial=thresholds.get(tier.code), help_text=_("Leave empty to leave this tier out."),
            )  # fmt: skip

    def policy_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["thresholds"] = {
            tier.code: float(self.cleaned_data[f"threshold_{tier.code}"])
            for tier in self.tiers
            if self.cleaned_data.get(f"threshold_{tier.code}") is not None
        }
        return data

    def candidate(self) -> Any:
        """An unsaved policy with these settings, for the what-if preview."""
        from tiers.models import ScoringPolicy

        policy = ScoringPolicy(version=0, **self.policy_data())
        return policy


class RiskRuleForm(VersionedForm):
    """A risk rule: its kind's parameters one field each (empty means the default), the
    measure from which each severity starts, the tiers it watches and its playbook."""

    wide_fields = ("tiers", "playbook")

    class Meta:
        from risk.models import RiskRule

        model = RiskRule
        fields = ["name", "code", "severity", "enabled", "tiers", "playbook"]
        widgets = {"tiers": forms.CheckboxSelectMultiple, "playbook": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        from risk.choices import SEVERITY_ORDER, RiskKind, Severity
        from risk.engine import PARAMS
        from transactions.choices import Currency

        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.kind = kind
        self.kind_label = RiskKind(kind).label
        self.params = PARAMS[kind]
        if self.instance.pk:
            self.fields["code"].disabled = True  # other systems and saved filters name the rule by it
        self.fields["severity"].label = _("Severity below the first level")
        self.fields["severity"].widget.attrs["class"] = "form-select"
        current = self.instance.params or {}
        self.param_fields: list[str] = []
        for name, param in self.params.items():
            if param.per_currency:
                amounts = current.get(name) or {}
                for code, label in Currency.choices:
                    field_name = f"param_{name}_{code}"
                    self.fields[field_name] = forms.DecimalField(
                        label=_("Smallest outstanding amount in %(currency)s") % {"currency": label},
                        min_value=0, max_digits=14, decimal_places=2, required=False, initial=amounts.get(code),
                        help_text=_("Empty: the amount above applies."),
                    )  # fmt: skip
                    self.param_fields.append(field_name)
                continue
            field_name = f"param_{name}"
            common: dict[str, Any] = {
                "label": param.label, "min_value": 0, "max_value": param.most, "required": False,
                "initial": current.get(name),
                "help_text": _("Empty: %(default)s (the default).") % {"default": param.default},
            }  # fmt: skip
            if param.whole:
                self.fields[field_name] = forms.IntegerField(**common)
            else:
                self.fields[field_name] = forms.DecimalField(max_digits=14, decimal_places=3, **common)
            self.param_fields.append(field_name)
        starts = {severity: start for start, severity in self.instance.severity_levels or []}
        self.level_fields: list[str] = []
        for severity in SEVERITY_ORDER:
            field_name = f"level_{severity}"
            self.fields[field_name] = forms.DecimalField(
                label=_("%(severity)s from") % {"severity": Severity(severity).label}, min_value=0,
                max_digits=14, decimal_places=3, required=False, initial=starts.get(severity),
                help_text=_("Empty: this level is not used."),
            )  # fmt: skip
            self.level_fields.append(field_name)

    def sections(self) -> list[tuple[Any, list[Any]]]:
        """The fields in the order an admin thinks of a rule: what it is, when it fires,
        how severe it is."""
        return [
            (_("The rule"), [self[name] for name in ("name", "code", "enabled", "tiers", "playbook")]),
            (_("When it fires"), [self[name] for name in self.param_fields]),
            (_("How severe"), [self["severity"], *(self[name] for name in self.level_fields)]),
        ]

    @staticmethod
    def _number(value: Any) -> int | float:
        return int(value) if value == int(value) else float(value)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        starts = [(cleaned[name], name) for name in self.level_fields if cleaned.get(name) is not None]
        # Severities rise with the measure: a later severity cannot start below an earlier one.
        for (low, _low_name), (high, high_name) in zip(starts, starts[1:], strict=False):
            if high <= low:
                self.add_error(high_name, _("Start it above the less severe levels."))
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["kind"] = self.kind
        params: dict[str, Any] = {}
        for name, param in self.params.items():
            if param.per_currency:
                amounts = {
                    field.removeprefix(f"param_{name}_"): self._number(self.cleaned_data[field])
                    for field in self.param_fields
                    if field.startswith(f"param_{name}_") and self.cleaned_data.get(field) is not None
                }
                if amounts:
                    params[name] = amounts
            elif self.cleaned_data.get(f"param_{name}") is not None:
                params[name] = self._number(self.cleaned_data[f"param_{name}"])
        data["params"] = params
        data["severity_levels"] = [
            [self._number(self.cleaned_data[field]), field.removeprefix("level_")]
            for field in self.level_fields
            if self.cleaned_data.get(field) is not None
        ]
        return data


class RiskSettingsForm(VersionedForm):
    """When the daily scan runs, the digest, and the hours to act for each severity."""

    class Meta:
        from risk.models import RiskSettings

        model = RiskSettings
        fields = ["scan_time", "digest_enabled"]
        widgets = {"scan_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from risk.choices import SEVERITY_ORDER, Severity

        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.sla_fields: list[tuple[str, str]] = []
        for severity in reversed(SEVERITY_ORDER):
            name = f"sla_{severity}"
            self.fields[name] = forms.DecimalField(
                label=_("Hours to act on a %(severity)s alert") % {"severity": Severity(severity).label},
                min_value=Decimal("0.1"), max_value=24 * 365, max_digits=7, decimal_places=1,
                initial=self.instance.sla_for(severity).total_seconds() / 3600,
            )  # fmt: skip
            self.sla_fields.append((name, severity))

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["sla_hours"] = {
            severity: RiskRuleForm._number(self.cleaned_data[name]) for name, severity in self.sla_fields
        }
        return data
