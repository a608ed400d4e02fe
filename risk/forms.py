"""Forms for working an alert on its page (its status, its assignee, a comment) and the
console's risk rule and risk settings editors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.access.forms import PolicyFormMixin
from crm.access.policy import Level
from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.core.forms import RecordForm, VersionedForm
from transactions.choices import Currency

from .choices import OPEN_STATUSES, SEVERITY_ORDER, AlertStatus, RiskKind, Severity
from .engine import PARAMS
from .models import RiskAlert, RiskRule, RiskSettings


class AlertStatusForm(RecordForm):
    """Acknowledge, resolve or dismiss (a dismissal needs its reason in the note)."""

    policy_resource = "risk-alerts"

    class Meta:
        model = RiskAlert
        fields = ("status", "resolution_note")
        widgets = {"resolution_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            current = self.instance.status
            moves = [AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED, AlertStatus.DISMISSED]
            allowed = [current, *(m for m in moves if m != current)] if current in OPEN_STATUSES else [current]
            status: Any = self.fields["status"]
            status.choices = [(value, AlertStatus(value).label) for value in allowed]


class AlertAssignForm(RecordForm):
    """A manager gives the alert to someone who can see its customer: the owner, the
    team's manager or an administrator."""

    policy_resource = "risk-alerts"

    class Meta:
        model = RiskAlert
        fields = ("assignee",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            customer = self.instance.customer
            team_manager = customer.team.manager_id if customer.team_id else None  # type: ignore[union-attr]
            candidates = {customer.owner_id, team_manager, self.instance.assignee_id} - {None}
            may_see = Q(pk__in=candidates) | Q(role=Role.ADMIN) | Q(is_superuser=True)
            assignee: Any = self.fields["assignee"]
            assignee.queryset = User.objects.filter(may_see, is_active=True).order_by("username")
            assignee.required = True


class AlertCommentForm(PolicyFormMixin, forms.Form):
    """A note on the alert; offered only to a user who may write a comment's text."""

    policy_resource = "alert-comments"

    body = forms.CharField(label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    @property
    def may_write(self) -> bool:
        return self.levels.get("body") == Level.WRITE


# ------------------------------------------------------------------ console
class RiskRuleForm(VersionedForm):
    """A risk rule: its kind's parameters one field each (empty means the default), the
    measure from which each severity starts, the tiers it watches and its playbook.  The
    name and the playbook are written in both languages side by side; one of the two names
    is needed (a reader of the other language sees it)."""

    wide_fields = ("tiers",)

    class Meta:
        model = RiskRule
        fields = ["name_zh", "name_en", "code", "severity", "enabled", "tiers", "playbook_zh", "playbook_en"]
        widgets = {
            "tiers": forms.CheckboxSelectMultiple,
            "playbook_zh": forms.Textarea(attrs={"rows": 5, "lang": "zh-Hans"}),
            "playbook_en": forms.Textarea(attrs={"rows": 5, "lang": "en"}),
            "name_zh": forms.TextInput(attrs={"lang": "zh-Hans"}),
            "name_en": forms.TextInput(attrs={"lang": "en"}),
        }

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
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
            (
                _("The rule"),
                [
                    self[name]
                    for name in ("name_zh", "name_en", "code", "enabled", "tiers", "playbook_zh", "playbook_en")
                ],
            ),
            (_("When it fires"), [self[name] for name in self.param_fields]),
            (_("How severe"), [self["severity"], *(self[name] for name in self.level_fields)]),
        ]

    @staticmethod
    def _number(value: Any) -> int | float:
        return int(value) if value == int(value) else float(value)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not (cleaned.get("name_zh") or "").strip() and not (cleaned.get("name_en") or "").strip():
            self.add_error("name_zh", _("Give the rule a name in Chinese or in English."))
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
        model = RiskSettings
        fields = ["scan_time", "digest_enabled"]
        widgets = {"scan_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
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
