"""Forms for working an alert on its page: its status, its assignee, a comment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.access.forms import PolicyFormMixin
from crm.access.policy import Level
from crm.accounts.choices import Role
from crm.accounts.models import User
from crm.core.forms import RecordForm

from .choices import OPEN_STATUSES, AlertStatus
from .models import RiskAlert


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
