"""HTML forms of campaigns: the campaign itself (field policy, version check and widgets
from ``crm.core.forms.RecordForm``) and the bulk recording of the participants' progress."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.core.forms import DATETIME, RecordForm, formfield

from .choices import ParticipationStatus
from .models import Campaign


class CampaignForm(RecordForm):
    policy_resource = "campaigns"
    wide_fields = ("content", "target_description")

    class Meta:
        model = Campaign
        formfield_callback = formfield
        fields = [
            "name",
            "channel",
            "status",
            "start_date",
            "end_date",
            "location",
            "budget",
            "target_participants",
            "target_revenue",
            "content",
            "target_description",
        ]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 3}),
            "target_description": forms.Textarea(attrs={"rows": 2}),
        }


class RecordStepForm(forms.Form):
    """The step the ticked participants reached (the first step, invited, is the invitation),
    and when."""

    status = forms.ChoiceField(
        label=_("Mark as"),
        choices=[(step.value, step.label) for step in ParticipationStatus if step != ParticipationStatus.INVITED],
    )
    at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=DATETIME,
        help_text=_("Leave empty for now."),
    )
    ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), error_messages={"required": _("Tick the participants first.")}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id may be posted; the service keeps only this campaign's, in the actor's scope.
        self.fields["ids"].choices = [(v, v) for v in self.data.getlist("ids")] if self.is_bound else []  # type: ignore[attr-defined]
        self.fields["status"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["at"].widget.attrs["class"] = "form-control form-control-sm"
