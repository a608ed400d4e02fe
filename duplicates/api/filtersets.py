"""Filters of duplicate candidates."""

from __future__ import annotations

import django_filters as filters

from crm.core.filtersets import ChoicesFilter

from ..choices import CandidateStatus
from ..models import DuplicateCandidate


class DuplicateCandidateFilterSet(filters.FilterSet):
    status = ChoicesFilter(choices=CandidateStatus.choices)
    min_score = filters.NumberFilter(field_name="score", lookup_expr="gte", label="min score")

    class Meta:
        model = DuplicateCandidate
        fields = ("status",)
