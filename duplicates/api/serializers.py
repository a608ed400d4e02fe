"""The duplicate candidates as the API shows them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import DuplicateCandidate
from ..reasons import describe


class CandidateSideSerializer(serializers.Serializer):
    """One side of a pair: enough to recognise the customer (its page has the rest)."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    city = serializers.CharField()
    province = serializers.CharField()


class DuplicateCandidateSerializer(serializers.ModelSerializer):
    customer_a = CandidateSideSerializer(read_only=True)
    customer_b = CandidateSideSerializer(read_only=True)
    reasons = serializers.SerializerMethodField(help_text="Each reason's code, its parameters and its text.")
    decided_by_name = serializers.CharField(source="decided_by.__str__", read_only=True, default=None)

    class Meta:
        model = DuplicateCandidate
        fields = (
            "id",
            "customer_a",
            "customer_b",
            "score",
            "reasons",
            "status",
            "found_at",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "version",
        )
        read_only_fields = fields

    def get_reasons(self, pair: DuplicateCandidate) -> list[dict[str, Any]]:
        return [{"code": r["code"], "params": r.get("params", {}), "text": describe(r)} for r in pair.reasons]
