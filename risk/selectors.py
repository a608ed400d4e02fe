"""Reads of risk rules and alerts, from the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crm.access.scope import scoped_queryset

from .models import RiskAlert, RiskRule


def risk_rule_list(*, user: Any) -> QuerySet[RiskRule]:
    return scoped_queryset(RiskRule, user)


def risk_alert_list(*, user: Any) -> QuerySet[RiskAlert]:
    return scoped_queryset(RiskAlert, user).select_related("customer", "rule", "assignee")
