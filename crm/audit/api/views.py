"""The audit trail, read-only: nothing in the API can write, change or remove an event."""

from __future__ import annotations

import django_filters as filters

from crm.core.api import ScopedModelViewSet
from crm.core.filtersets import ChoicesFilter

from ..choices import Action, Source
from ..models import AuditEvent
from ..selectors import audit_event_list
from .serializers import AuditEventSerializer


class AuditEventFilterSet(filters.FilterSet):
    action = ChoicesFilter(choices=Action.choices)
    source = ChoicesFilter(choices=Source.choices)
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ("resource", "actor", "customer", "object_id", "request_id")


class AuditEventViewSet(ScopedModelViewSet):
    model = AuditEvent
    resource = "audit-events"
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    search_fields = ("object_repr", "actor_label", "resource")
    ordering_fields = ("seq", "occurred_at")
    ordering = ("-seq",)
    http_method_names = ["get", "head", "options"]

    selector = staticmethod(audit_event_list)
