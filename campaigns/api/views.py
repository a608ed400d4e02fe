"""Campaign and participation endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.access.reveal import RevealMixin
from crm.core.api import ScopedModelViewSet
from customers.models import Customer

from .. import selectors, services
from ..models import Campaign, Participation
from .filtersets import CampaignFilterSet, ParticipationFilterSet
from .serializers import (
    CampaignSerializer,
    CampaignStatsSerializer,
    InviteRequestSerializer,
    InviteResultSerializer,
    ParticipationSerializer,
    RecordRequestSerializer,
    RecordResultSerializer,
)


class CampaignViewSet(RevealMixin, ScopedModelViewSet):
    """Campaigns are company-wide: everyone reads them; managers run them."""

    model = Campaign
    resource = "campaigns"
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    search_fields = ("name", "content", "location")
    ordering_fields = ("start_date", "end_date", "budget", "name", "created_at")
    ordering = ("-start_date", "-id")
    create_service = staticmethod(services.campaign_create)
    update_service = staticmethod(services.campaign_update)
    delete_service = staticmethod(services.campaign_delete)

    selector = staticmethod(selectors.campaign_list)

    @extend_schema(responses=CampaignStatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        """Funnel counts, conversion rate, attributed revenue, cost per conversion and ROI,
        over the participants the caller may see."""
        stats = selectors.campaign_stats(campaign=self.get_object(), user=request.user)
        return Response(CampaignStatsSerializer(stats).data)

    @extend_schema(request=InviteRequestSerializer, responses=InviteResultSerializer)
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str | None = None) -> Response:
        """Invite the given customers (managers): each through a contact who consents to
        marketing; those without one are skipped, those already taking part left alone."""
        campaign = self.get_object()
        body = InviteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customers = Customer.objects.filter(pk__in=body.validated_data["customers"])
        result = services.participation_invite(actor=request.user, campaign=campaign, customers=customers)
        return Response(InviteResultSerializer(result).data)

    @extend_schema(request=RecordRequestSerializer, responses=RecordResultSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk: str | None = None) -> Response:
        """Mark participations of this campaign registered, attended, responded or converted
        (managers), forward only, with each step's time."""
        campaign = self.get_object()
        body = RecordRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.participation_bulk_record(
            actor=request.user,
            campaign=campaign,
            ids=body.validated_data["participations"],
            status=body.validated_data["status"],
            at=body.validated_data.get("at"),
        )
        return Response(RecordResultSerializer(result).data)


class ParticipationViewSet(RevealMixin, ScopedModelViewSet):
    model = Participation
    resource = "participations"
    serializer_class = ParticipationSerializer
    filterset_class = ParticipationFilterSet
    search_fields = ("customer__name", "campaign__name")
    ordering_fields = ("status", "invited_at", "converted_at", "created_at")
    ordering = ("-created_at", "-id")
    create_service = staticmethod(services.participation_create)
    update_service = staticmethod(services.participation_update)
    delete_service = staticmethod(services.participation_delete)

    selector = staticmethod(selectors.participation_list)
