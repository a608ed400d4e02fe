"""Service record, feedback and satisfaction endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.reveal import RevealMixin
from crm.core.api import ScopedModelViewSet

from .. import selectors, services
from ..models import Feedback, SatisfactionResponse, ServiceRecord
from .filtersets import FeedbackFilterSet, SatisfactionResponseFilterSet, ServiceRecordFilterSet
from .serializers import (
    FeedbackSerializer,
    SatisfactionResponseSerializer,
    SatisfactionSummarySerializer,
    ServiceRecordSerializer,
)


class ServiceRecordViewSet(RevealMixin, ScopedModelViewSet):
    model = ServiceRecord
    resource = "service-records"
    serializer_class = ServiceRecordSerializer
    filterset_class = ServiceRecordFilterSet
    search_fields = ("content", "staff_name", "customer__name")
    ordering_fields = ("service_date", "rating", "created_at")
    ordering = ("-service_date", "-id")
    create_service = staticmethod(services.service_record_create)
    update_service = staticmethod(services.service_record_update)
    delete_service = staticmethod(services.service_record_delete)

    selector = staticmethod(selectors.service_record_list)


class FeedbackViewSet(RevealMixin, ScopedModelViewSet):
    """Suggestions, complaints, praise and questions.  A complaint is removed only by a manager."""

    model = Feedback
    resource = "feedback"
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilterSet
    search_fields = ("subject", "content", "customer__name")
    ordering_fields = ("received_at", "status", "created_at")
    ordering = ("-received_at", "-id")
    create_service = staticmethod(services.feedback_create)
    update_service = staticmethod(services.feedback_update)
    delete_service = staticmethod(services.feedback_delete)

    selector = staticmethod(selectors.feedback_list)


class SatisfactionResponseViewSet(RevealMixin, ScopedModelViewSet):
    model = SatisfactionResponse
    resource = "satisfaction-responses"
    serializer_class = SatisfactionResponseSerializer
    filterset_class = SatisfactionResponseFilterSet
    search_fields = ("comment", "customer__name")
    ordering_fields = ("responded_at", "csat", "nps")
    ordering = ("-responded_at", "-id")
    create_service = staticmethod(services.satisfaction_create)
    update_service = staticmethod(services.satisfaction_update)
    delete_service = staticmethod(services.satisfaction_delete)

    selector = staticmethod(selectors.satisfaction_list)

    @extend_schema(responses=SatisfactionSummarySerializer)
    @action(detail=False, methods=["get"])
    def summary(self, request: Request) -> Response:
        """CSAT average and distribution and the NPS of the answers the caller may see,
        narrowed by the same filters as the list."""
        responses = self.filter_queryset(self.get_queryset()).order_by()
        return Response(SatisfactionSummarySerializer(selectors.satisfaction_summary(responses=responses)).data)
