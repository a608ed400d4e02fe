"""Filters of risk rules, alerts and alert comments."""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet

from crm.core.filtersets import ChoicesFilter

from ..choices import OPEN_STATUSES, AlertStatus, RiskKind, Severity
from ..models import AlertComment, RiskAlert, RiskRule


class RiskRuleFilterSet(filters.FilterSet):
    kind = ChoicesFilter(choices=RiskKind.choices)

    class Meta:
        model = RiskRule
        fields = ("enabled", "severity")


class RiskAlertFilterSet(filters.FilterSet):
    severity = ChoicesFilter(choices=Severity.choices)
    status = ChoicesFilter(choices=AlertStatus.choices)
    open = filters.BooleanFilter(method="filter_open", label="open")
    raised_after = filters.IsoDateTimeFilter(field_name="raised_at", lookup_expr="gte")
    raised_before = filters.IsoDateTimeFilter(field_name="raised_at", lookup_expr="lt")

    policy_fields = {"open": ("status",)}

    class Meta:
        model = RiskAlert
        fields = ("customer", "rule", "assignee")

    def filter_open(self, queryset: QuerySet[RiskAlert], name: str, value: bool | None) -> QuerySet[RiskAlert]:
        if value is None:
            return queryset
        return (queryset.filter if value else queryset.exclude)(status__in=OPEN_STATUSES)


class AlertCommentFilterSet(filters.FilterSet):
    written_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = AlertComment
        fields = ("alert", "author")
