"""Filters of campaigns and participations."""

from __future__ import annotations

import django_filters as filters

from crm.core.filtersets import ChoicesFilter

from ..choices import CampaignStatus, Channel, ParticipationStatus
from ..models import Campaign, Participation


class CampaignFilterSet(filters.FilterSet):
    channel = ChoicesFilter(choices=Channel.choices)
    status = ChoicesFilter(choices=CampaignStatus.choices)
    start_after = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_before = filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Campaign
        fields = ("owner",)


class ParticipationFilterSet(filters.FilterSet):
    status = ChoicesFilter(choices=ParticipationStatus.choices)

    class Meta:
        model = Participation
        fields = ("campaign", "customer", "contact")
