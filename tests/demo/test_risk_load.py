"""The demo's risk load: after the first scan a few percent of customers have an open
alert (not most of them), and every kind of rule has raised some, so that a rep's first
day shows a workable inbox."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from crm.accounts.models import User
from customers.models import Customer
from risk import services
from risk.choices import OPEN_STATUSES, ScanTrigger
from risk.models import RiskAlert, RiskRule

pytestmark = pytest.mark.django_db


def test_a_few_percent_of_demo_customers_have_an_open_alert(reference_risk_rules: Any) -> None:
    call_command("seed_demo", "--customers", "2000", "--seed", "3", stdout=StringIO())
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    open_alerts = RiskAlert.objects.filter(status__in=OPEN_STATUSES)
    share = open_alerts.values("customer").distinct().count() / Customer.objects.count()
    assert 0.02 <= share <= 0.06, share
    kinds = set(open_alerts.values_list("rule__kind", flat=True))
    assert kinds == set(RiskRule.objects.filter(enabled=True).values_list("kind", flat=True))
    # A demo rep's inbox is a morning's work, not a wall.
    rep1 = User.objects.get(username="rep1")
    assert 1 <= open_alerts.filter(assignee=rep1).values("customer", "rule").distinct().count() <= 25
