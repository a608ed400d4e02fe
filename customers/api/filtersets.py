"""Filters of the customer archive endpoints (``?lifecycle_stage=key&industry=it`` ...)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Exists, OuterRef, QuerySet

from crm.core.filtersets import ChoicesFilter
from risk.choices import OPEN_STATUSES
from risk.models import RiskAlert

from ..choices import ActivityKind, CustomerKind, Industry, LifecycleStage, NeedStatus, Priority, Region
from ..models import Activity, Contact, Customer, ServiceNeed


class CustomerFilterSet(filters.FilterSet):
    lifecycle_stage = ChoicesFilter(choices=LifecycleStage.choices)
    industry = ChoicesFilter(choices=Industry.choices)
    region = ChoicesFilter(choices=Region.choices)
    kind = ChoicesFilter(choices=CustomerKind.choices)
    tier = filters.CharFilter(field_name="tier__code")
    tag = filters.CharFilter(method="filter_tag", label="tag")
    has_open_alert = filters.BooleanFilter(method="filter_open_alert", label="has open alert")
    annual_revenue_min = filters.NumberFilter(field_name="annual_revenue", lookup_expr="gte")
    annual_revenue_max = filters.NumberFilter(field_name="annual_revenue", lookup_expr="lte")
    influence_min = filters.NumberFilter(field_name="influence_score", lookup_expr="gte")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    # Filters that are not a plain lookup on one field: the fields they reveal.
    policy_fields = {"tag": ("tags",), "influence_min": ("influence_score",)}

    class Meta:
        model = Customer
        fields = ("owner", "team", "province", "city", "source", "company_size", "consent_marketing")

    def filter_tag(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.filter(tags__contains=[value])

    def filter_open_alert(self, queryset: QuerySet[Customer], name: str, value: bool) -> QuerySet[Customer]:
        """Customers with (or without) an open or acknowledged risk alert."""

        alerts = RiskAlert.objects.filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)
        return queryset.filter(Exists(alerts) if value else ~Exists(alerts))


class ContactFilterSet(filters.FilterSet):
    class Meta:
        model = Contact
        fields = ("customer", "is_primary", "is_decision_maker", "marketing_consent", "department")


class ActivityFilterSet(filters.FilterSet):
    kind = ChoicesFilter(choices=ActivityKind.choices)
    due_before = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields = ("customer", "contact", "assignee", "done")


class ServiceNeedFilterSet(filters.FilterSet):
    status = ChoicesFilter(choices=NeedStatus.choices)
    priority = ChoicesFilter(choices=Priority.choices)

    class Meta:
        model = ServiceNeed
        fields = ("customer", "kind")
