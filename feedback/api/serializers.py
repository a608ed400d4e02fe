"""Service, feedback and satisfaction serializers."""

from __future__ import annotations

from rest_framework import serializers

from crm.access.serializers import FieldPolicySerializerMixin
from crm.accounts.models import User
from crm.core.api import ScopedPrimaryKeyRelatedField
from customers.models import Contact, Customer
from transactions.models import Product

from ..models import Feedback, SatisfactionResponse, ServiceRecord

STAMPS = ("version", "created_at", "updated_at")


class ServiceRecordSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "service-records"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    staff = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    product = ScopedPrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)

    class Meta:
        model = ServiceRecord
        fields = (
            "id",
            "customer",
            "customer_name",
            "service_date",
            "service_type",
            "staff",
            "staff_name",
            "product",
            "content",
            "result",
            "rating",
            "customer_comment",
            "due_date",
            "follow_up",
            "resolved_at",
            *STAMPS,
        )
        read_only_fields = ("resolved_at", *STAMPS)


class FeedbackSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "feedback"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact = ScopedPrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    handler = ScopedPrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    received_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Feedback
        fields = (
            "id",
            "customer",
            "customer_name",
            "contact",
            "kind",
            "channel",
            "subject",
            "content",
            "received_at",
            "status",
            "handler",
            "response",
            "responded_at",
            "first_response_at",
            *STAMPS,
        )
        read_only_fields = ("responded_at", "first_response_at", *STAMPS)


class SatisfactionResponseSerializer(FieldPolicySerializerMixin, serializers.ModelSerializer):
    policy_resource = "satisfaction-responses"

    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact = ScopedPrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    responded_at = serializers.DateTimeField(required=False)

    class Meta:
        model = SatisfactionResponse
        fields = (
            "id",
            "customer",
            "customer_name",
            "contact",
            "responded_at",
            "method",
            "csat",
            "nps",
            "comment",
            *STAMPS,
        )
        read_only_fields = STAMPS
        # "At least one score" is checked by the service with a message naming both fields.
        validators: list[object] = []


class SatisfactionSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    csat_count = serializers.IntegerField()
    csat_average = serializers.FloatField(allow_null=True)
    csat_distribution = serializers.DictField(child=serializers.IntegerField())
    nps_count = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    nps = serializers.FloatField(allow_null=True, help_text="% promoters − % detractors, from −100 to 100.")
