"""The tier policy editor's form (a console page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ScoringPolicy, Tier


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
