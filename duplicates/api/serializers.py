"""The duplicate candidates as the API shows them."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..merging import SIDES, unmerge_deadline
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
    customer_a = CandidateSideSerializer(read_only=True, allow_null=True, help_text="Null once merged away.")
    customer_b = CandidateSideSerializer(read_only=True, allow_null=True, help_text="Null once merged away.")
    reasons = serializers.SerializerMethodField(help_text="Each reason's code, its parameters and its text.")
    decided_by_name = serializers.CharField(source="decided_by.__str__", read_only=True, default=None)
    unmerge_until = serializers.SerializerMethodField(
        help_text="Until when the merge can be undone (null unless the pair is merged)."
    )

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
            "survivor",
            "merged_id",
            "merged_repr",
            "unmerge_until",
            "version",
        )
        read_only_fields = fields

    def get_unmerge_until(self, pair: DuplicateCandidate) -> datetime.datetime | None:
        return unmerge_deadline(pair)

    def get_reasons(self, pair: DuplicateCandidate) -> list[dict[str, Any]]:
        return [{"code": r["code"], "params": r.get("params", {}), "text": describe(r)} for r in pair.reasons]


class MergeSerializer(serializers.Serializer):
    """What a merge keeps: the customer (side ``a`` or ``b``) and, per field, the side
    whose value it takes (fields not named keep the survivor's)."""

    keep = serializers.ChoiceField(choices=SIDES, help_text="The side whose customer is kept.")
    values = serializers.DictField(
        child=serializers.ChoiceField(choices=SIDES),
        required=False,
        default=dict,
        help_text="Field name → side (a or b) whose value the customer kept takes.",
    )

    def validate_values(self, values: dict[str, str]) -> dict[str, str]:
        if len(values) > 100:
            raise serializers.ValidationError(_("Too many fields."))
        return values
