"""The forms of the console's tier pages: the scoring policy, and a tier's own words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import VersionedForm

from .models import ScoringPolicy, Tier

#: A tier's benefits: at most this many, each at most this long (as in the API).
MOST_BENEFITS, BENEFIT_LENGTH = 50, 200


class ScoringPolicyForm(forms.ModelForm):
    """The scoring policy's settings, and one threshold field per tier."""

    note = forms.CharField(label=_("What changed"), max_length=200, required=False)

    class Meta:
        model = ScoringPolicy
        fields = [
            "window_days", "spend_weight", "spend_cap", "orders_weight", "orders_cap", "tenure_weight",
            "tenure_cap_years", "influence_weight", "satisfaction_weight", "grace_days", "period",
            "churn_after_days", "key_account_tier",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
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
        return ScoringPolicy(version=0, **self.policy_data())


class BenefitsField(forms.CharField):
    """A list of benefits typed one per line; empty lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(item) for item in value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value: Any) -> None:
        super().validate(value)
        if len(value) > MOST_BENEFITS:
            raise forms.ValidationError(_("At most %(n)d benefits.") % {"n": MOST_BENEFITS})
        if any(len(item) > BENEFIT_LENGTH for item in value):
            raise forms.ValidationError(_("Keep each benefit to %(n)d characters.") % {"n": BENEFIT_LENGTH})


class TierForm(VersionedForm):
    """What a tier says to people, in Chinese and in English side by side: its name, its
    benefits (one per line) and its description, and its colour.  One of the two names is
    needed; a reader of the other language sees it."""

    benefits_zh = BenefitsField(label=_("Benefits (Chinese)"), required=False, help_text=_("One benefit per line."))
    benefits_en = BenefitsField(label=_("Benefits (English)"), required=False, help_text=_("One benefit per line."))

    class Meta:
        model = Tier
        fields = [
            "name_zh",
            "name_en",
            "benefits_zh",
            "benefits_en",
            "description_zh",
            "description_en",
            "colour",
            "verify_days",
        ]
        widgets = {
            "description_zh": forms.Textarea(attrs={"rows": 3, "lang": "zh-Hans"}),
            "description_en": forms.Textarea(attrs={"rows": 3, "lang": "en"}),
            "name_zh": forms.TextInput(attrs={"lang": "zh-Hans"}),
            "name_en": forms.TextInput(attrs={"lang": "en"}),
            "colour": forms.TextInput(attrs={"type": "color"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.fields["benefits_zh"].widget.attrs["lang"] = "zh-Hans"
        self.fields["benefits_en"].widget.attrs["lang"] = "en"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not (cleaned.get("name_zh") or "").strip() and not (cleaned.get("name_en") or "").strip():
            self.add_error("name_zh", _("Give the tier a name in Chinese or in English."))
        return cleaned
