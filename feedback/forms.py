"""HTML forms of service records and feedback."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.access.policy import Level
from crm.core.forms import RecordForm, formfield
from transactions.models import Product

from .choices import FEEDBACK_MOVES, FeedbackStatus
from .models import Feedback, SatisfactionResponse, ServiceRecord


class ServiceRecordForm(RecordForm):
    policy_resource = "service-records"

    class Meta:
        model = ServiceRecord
        formfield_callback = formfield
        fields = [
            "service_date",
            "service_type",
            "staff_name",
            "product",
            "content",
            "result",
            "due_date",
            "rating",
            "customer_comment",
        ]
        widgets = {"content": forms.Textarea(attrs={"rows": 2}), "customer_comment": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "product" in self.fields and not self.fields["product"].disabled:
            self.fields["product"].queryset = Product.objects.filter(active=True).order_by("name")  # type: ignore[attr-defined]


class FeedbackForm(RecordForm):
    policy_resource = "feedback"
    now_if_empty = ("received_at",)

    class Meta:
        model = Feedback
        formfield_callback = formfield
        fields = ["kind", "channel", "subject", "content", "contact", "received_at", "status", "response"]
        widgets = {"content": forms.Textarea(attrs={"rows": 2}), "response": forms.Textarea(attrs={"rows": 2})}


class SatisfactionForm(RecordForm):
    policy_resource = "satisfaction-responses"
    now_if_empty = ("responded_at",)

    class Meta:
        model = SatisfactionResponse
        formfield_callback = formfield
        fields = ["responded_at", "method", "csat", "nps", "contact", "comment"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 2})}


# ------------------------------------------------------------------- the queues
# Each form validates one act on one row of a queue; the rows themselves are drawn by
# the queue's templates from data read once for the page (a form per row would cost a
# query per row for its choices).
class FeedbackAssignForm(RecordForm):
    """Who handles the feedback (empty: nobody)."""

    policy_resource = "feedback"

    class Meta:
        model = Feedback
        fields = ["handler"]


class FeedbackStatusForm(RecordForm):
    """The next status of the feedback, among the moves its workflow allows."""

    policy_resource = "feedback"

    class Meta:
        model = Feedback
        fields = ["status"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status: Any = self.fields.get("status")
        if status is not None and not status.disabled:
            current = self.instance.status
            status.choices = [(value, FeedbackStatus(value).label) for value in FEEDBACK_MOVES[current]]
            status.required = True


class FeedbackRespondForm(RecordForm):
    """The response given to the customer, and whether it resolves the feedback."""

    policy_resource = "feedback"

    resolve = forms.BooleanField(label=_("Resolved with this response"), required=False)

    class Meta:
        model = Feedback
        fields = ["response"]
        widgets = {"response": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        response: Any = self.fields.get("response")
        if response is not None and not response.disabled:
            response.required = True
        self.levels["resolve"] = self.levels.get("response", Level.HIDDEN)


class ServiceAssignForm(RecordForm):
    """Who follows the service record up (empty: nobody)."""

    policy_resource = "service-records"

    class Meta:
        model = ServiceRecord
        fields = ["staff"]


class ServiceFollowUpForm(RecordForm):
    """What was done since the visit, the result now and when to follow up next."""

    policy_resource = "service-records"

    note = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = ServiceRecord
        formfield_callback = formfield
        fields = ["result", "due_date"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.levels["note"] = self.policy.level("service-records", "follow_up")
        if self.levels["note"] < Level.WRITE:
            self.fields.pop("note", None)
