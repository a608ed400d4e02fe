"""HTML forms of service records and feedback."""

from __future__ import annotations

from typing import Any

from django import forms

from crm.core.forms import RecordForm, formfield
from transactions.models import Product

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
