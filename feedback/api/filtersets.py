"""Filters of service records, feedback and satisfaction answers."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from crm.core.filtersets import ChoicesFilter

from ..choices import FeedbackKind, FeedbackStatus, ServiceType
from ..models import Feedback, SatisfactionResponse, ServiceRecord
from ..selectors import feedback_overdue, open_feedback, service_overdue


class ServiceRecordFilterSet(filters.FilterSet):
    service_type = ChoicesFilter(choices=ServiceType.choices)
    rating_min = filters.NumberFilter(field_name="rating", lookup_expr="gte")
    rating_max = filters.NumberFilter(field_name="rating", lookup_expr="lte")
    service_date_after = filters.DateFilter(field_name="service_date", lookup_expr="gte")
    service_date_before = filters.DateFilter(field_name="service_date", lookup_expr="lte")
    overdue = filters.BooleanFilter(method="filter_overdue", label="overdue")

    policy_fields = {"overdue": ("result", "service_date", "due_date")}

    class Meta:
        model = ServiceRecord
        fields = ("customer", "result", "staff", "product")

    def filter_overdue(
        self, queryset: QuerySet[ServiceRecord], name: str, value: bool | None
    ) -> QuerySet[ServiceRecord]:
        """Not resolved past its follow-up date (its own, else CRM_SERVICE_FOLLOW_UP_DAYS after the service)."""
        if value is None:
            return queryset
        return queryset.filter(service_overdue()) if value else queryset.exclude(service_overdue())


class FeedbackFilterSet(filters.FilterSet):
    kind = ChoicesFilter(choices=FeedbackKind.choices)
    status = ChoicesFilter(choices=FeedbackStatus.choices)
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    open = filters.BooleanFilter(method="filter_open", label="open")
    overdue = filters.BooleanFilter(method="filter_overdue", label="overdue")

    policy_fields = {
        "open": ("status",),
        "overdue": ("status", "received_at", "responded_at"),
        "received_after": ("received_at",),
        "received_before": ("received_at",),
    }

    class Meta:
        model = Feedback
        fields = ("customer", "channel", "handler")

    def filter_open(self, queryset: QuerySet[Feedback], name: str, value: bool | None) -> QuerySet[Feedback]:
        if value is None:
            return queryset
        return queryset.filter(open_feedback()) if value else queryset.exclude(open_feedback())

    def filter_overdue(self, queryset: QuerySet[Feedback], name: str, value: bool | None) -> QuerySet[Feedback]:
        """Open and unanswered CRM_FEEDBACK_RESPONSE_HOURS after it was received."""
        if value is None:
            return queryset
        return queryset.filter(feedback_overdue()) if value else queryset.exclude(feedback_overdue())


class SatisfactionResponseFilterSet(filters.FilterSet):
    csat_min = filters.NumberFilter(field_name="csat", lookup_expr="gte")
    csat_max = filters.NumberFilter(field_name="csat", lookup_expr="lte")
    nps_min = filters.NumberFilter(field_name="nps", lookup_expr="gte")
    nps_max = filters.NumberFilter(field_name="nps", lookup_expr="lte")
    responded_after = filters.IsoDateTimeFilter(field_name="responded_at", lookup_expr="gte")
    responded_before = filters.IsoDateTimeFilter(field_name="responded_at", lookup_expr="lt")

    class Meta:
        model = SatisfactionResponse
        fields = ("customer", "method")
