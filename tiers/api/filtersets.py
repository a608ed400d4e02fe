"""Filters of tier history."""

from __future__ import annotations

import django_filters as filters

from crm.core.filtersets import ChoicesFilter

from ..choices import ChangeKind
from ..models import TierChange


class TierChangeFilterSet(filters.FilterSet):
    kind = ChoicesFilter(choices=ChangeKind.choices)
    from_tier = filters.CharFilter(field_name="from_tier__code")
    to_tier = filters.CharFilter(field_name="to_tier__code")
    changed_after = filters.IsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")
    changed_before = filters.IsoDateTimeFilter(field_name="changed_at", lookup_expr="lt")

    class Meta:
        model = TierChange
        fields = ("customer", "changed_by")
