"""Filters of campaigns and participations."""

from __future__ import annotations

import django_filters as filters

from ..choices import CampaignStatus, Channel, ParticipationStatus
from ..models import Campaign, Participation


class CampaignFilterSet(filters.FilterSet):
    channel = filters.MultipleChoiceFilter(choices=Channel.choices)
    status = filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    start_after = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_before = filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Campaign
        fields = ("owner",)


class ParticipationFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=ParticipationStatus.choices)

    class Meta:
        model = Participation
        fields = ("campaign", "customer", "contact")
