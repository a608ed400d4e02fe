"""Reads of risk rules and alerts, from the record scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from crm.access.scope import scoped_queryset

from .models import RiskAlert, RiskRule, RiskScan, RiskSettings


def risk_rule_list(*, user: Any) -> QuerySet[RiskRule]:
    return scoped_queryset(RiskRule, user).prefetch_related("tiers")


def risk_alert_list(*, user: Any) -> QuerySet[RiskAlert]:
    return scoped_queryset(RiskAlert, user).select_related("customer", "rule", "assignee")


def scan_due(now: Any = None) -> bool:
    """The daily scan is due once today's scan time (business time zone) has passed and
    no scan has been started since."""
    now = timezone.localtime(now or timezone.now())
    scan_time = RiskSettings.current().scan_time
    at = now.replace(hour=scan_time.hour, minute=scan_time.minute, second=0, microsecond=0)
    return now >= at and not RiskScan.objects.filter(created_at__gte=at).exists()
