"""Campaign and participation serializers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.access.serializers import FieldPolicySerializerMixin
from crm.accounts.models import User
from crm.core.api import ScopedPrimaryKeyRelatedField
from customers.models import Contact, Customer
from transactions.models import Transaction

from ..choices import ParticipationStatus
from ..models import Campaign, Participation

STAMPS = ("version", "created_at", "updated_at")


class CampaignSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "campaigns"

    owner = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    owner_name = serializers.CharField(label=_("owner name"), source="owner.__str__", read_only=True, default=None)

    class Meta:
        model = Campaign
        fields = (
            "id",
            "name",
            "channel",
            "status",
            "start_date",
            "end_date",
            "location",
            "content",
            "budget",
            "target_participants",
            "target_revenue",
            "target_description",
            "owner",
            "owner_name",
            *STAMPS,
        )
        read_only_fields = STAMPS


class ParticipationSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "participations"

    campaign = ScopedPrimaryKeyRelatedField(queryset=Campaign.objects.all())
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact = ScopedPrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    transaction = ScopedPrimaryKeyRelatedField(queryset=Transaction.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Participation
        fields = (
            "id",
            "campaign",
            "campaign_name",
            "customer",
            "customer_name",
            "contact",
            "status",
            "invited_at",
            "registered_at",
            "attended_at",
            "responded_at",
            "converted_at",
            "transaction",
            "feedback",
            *STAMPS,
        )
        read_only_fields = STAMPS
        validators: list[Any] = []


class FunnelSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    registered = serializers.IntegerField()
    attended = serializers.IntegerField()
    responded = serializers.IntegerField()
    converted = serializers.IntegerField()


class CampaignStatsSerializer(serializers.Serializer):
    funnel = FunnelSerializer()
    conversion_rate = serializers.FloatField(allow_null=True)
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    budget = serializers.DecimalField(max_digits=16, decimal_places=2)
    cost_per_conversion = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    roi = serializers.FloatField(allow_null=True)
    attribution_days = serializers.IntegerField(
        help_text=_("Orders placed from the invitation up to this many days later count as the campaign's revenue.")
    )


class InviteRequestSerializer(serializers.Serializer):
    customers = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=10000,
        help_text=_("Ids of the customers to invite; those outside the caller's scope are ignored."),
    )


class InviteResultSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text=_("Customers named, in the caller's scope."))
    invited = serializers.IntegerField(help_text=_("New participations."))
    already = serializers.IntegerField(help_text=_("Customers already taking part."))
    no_consent = serializers.IntegerField(
        help_text=_("Customers skipped: none of their contacts consents to marketing.")
    )


class RecordRequestSerializer(serializers.Serializer):
    participations = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=10000
    )
    status = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in ParticipationStatus if c != ParticipationStatus.INVITED]
    )
    at = serializers.DateTimeField(required=False, help_text=_("When the step was reached; now if left out."))


class RecordResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text=_("Participations moved forward to the status."))
    unchanged = serializers.IntegerField(help_text=_("Participations left alone: already that far, or not visible."))
