"""Tier and tier-history serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crm.core.api import ScopedPrimaryKeyRelatedField
from crm.core.localized import LocalizedField, LocalizedListField
from customers.models import Customer

from ..models import ScoringPolicy, Tier, TierChange, TierRun
from ..selectors import tier_list

STAMPS = ("version", "created_at", "updated_at")


def _benefits(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(max_length=200), max_length=50, **kwargs)


class TierSerializer(serializers.ModelSerializer):
    """A tier with its name, benefits and description in both languages (``name_zh``,
    ``benefits_en`` ...) to edit, and ``name``, ``benefits`` and ``description`` in the
    reader's language with the fallback (writing one of them sets the request's language)."""

    customer_count = serializers.IntegerField(read_only=True, help_text="Customers of this tier that you may see.")
    name = LocalizedField("name", child=serializers.CharField(max_length=50, allow_blank=True))
    benefits = LocalizedListField("benefits", child=_benefits())
    benefits_zh = _benefits(required=False)
    benefits_en = _benefits(required=False)
    description = LocalizedField("description")

    class Meta:
        model = Tier
        fields = (
            "id",
            "code",
            "name",
            "name_en",
            "name_zh",
            "rank",
            "colour",
            "min_score",
            "benefits",
            "benefits_zh",
            "benefits_en",
            "description",
            "description_zh",
            "description_en",
            "verify_days",
            "customer_count",
            *STAMPS,
        )
        read_only_fields = STAMPS
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"code": {"validators": []}, "rank": {"validators": []}}

    def to_representation(self, instance: Tier) -> Any:
        request = self.context.get("request")
        if not hasattr(instance, "customer_count") and request is not None:
            # A tier just created or changed comes from its service without the list's
            # count; read it as the list does, so every answer has the same fields.
            counted = tier_list(user=request.user).filter(pk=instance.pk).first()
            instance.customer_count = getattr(counted, "customer_count", 0)  # type: ignore[attr-defined]
        return super().to_representation(instance)


class TierChangeSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    from_tier_code = serializers.CharField(source="from_tier.code", read_only=True, default=None)
    to_tier_code = serializers.CharField(source="to_tier.code", read_only=True, default=None)
    changed_by_name = serializers.CharField(source="changed_by.__str__", read_only=True, default=None)

    class Meta:
        model = TierChange
        fields = (
            "id",
            "customer",
            "customer_name",
            "from_tier",
            "from_tier_code",
            "to_tier",
            "to_tier_code",
            "kind",
            "changed_at",
            "reason",
            "score",
            "explanation",
            "changed_by",
            "changed_by_name",
        )
        read_only_fields = fields


class TierOverrideSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(queryset=Customer.objects.all())
    tier = serializers.SlugRelatedField(slug_field="code", queryset=Tier.objects.all())
    reason = serializers.CharField(max_length=2000)
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the override ends (default: 180 days from now)."
    )


class ScoringPolicySerializer(serializers.ModelSerializer):
    """A version of the scoring policy.  Creating one makes it the active version."""

    class Meta:
        model = ScoringPolicy
        fields = (
            "id", "version", "is_active", "note", "window_days", "spend_weight", "spend_cap", "orders_weight",
            "orders_cap", "tenure_weight", "tenure_cap_years", "influence_weight", "satisfaction_weight",
            "thresholds", "grace_days", "period", "churn_after_days", "key_account_tier", "created_by", "created_at",
        )  # fmt: skip
        read_only_fields = ("id", "version", "is_active", "created_by", "created_at")


class TierRunSerializer(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)

    class Meta:
        model = TierRun
        fields = (
            "id", "policy", "policy_version", "state", "trigger", "requested_by", "as_of", "created_at", "started_at",
            "finished_at", "chunk_count", "chunks_done", "summary", "error",
        )  # fmt: skip
        read_only_fields = fields
