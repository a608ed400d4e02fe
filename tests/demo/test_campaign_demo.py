"""The demo's campaigns follow the product's own rules: participants invited through a
contact who consents to marketing, funnel times in order, and conversions (and so revenue)
only from orders placed inside the attribution window after the invitation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, Participation
from campaigns.selectors import campaign_stats
from campaigns.services import FUNNEL
from crm.accounts.models import User

pytestmark = pytest.mark.django_db
STEPS = ("invited_at", "registered_at", "attended_at", "responded_at", "converted_at")


@pytest.fixture
def seeded() -> User:
    call_command("seed_demo", "--customers", "400", "--seed", "7", stdout=StringIO())
    return User.objects.get(username="admin")


def _orders_in_window_sql() -> str:
    """The revenue of each campaign as the rule defines it, computed apart from the selector."""
    return """
        SELECT p.campaign_id, coalesce(sum(t.amount), 0)
        FROM campaigns_participation p
        JOIN transactions_transaction t ON t.customer_id = p.customer_id
        WHERE p.status = 'converted' AND t.status NOT IN ('cancelled', 'refunded')
          AND t.order_date BETWEEN (p.invited_at AT TIME ZONE %(tz)s)::date
                               AND (p.invited_at AT TIME ZONE %(tz)s)::date + %(days)s
        GROUP BY p.campaign_id
    """


def test_every_participant_consents_and_moves_down_the_funnel_in_order(seeded: User) -> None:
    parts = list(Participation.objects.select_related("contact", "transaction"))
    assert len(parts) > 50
    for part in parts:
        assert part.contact is not None and part.contact.marketing_consent
        assert part.contact.customer_id == part.customer_id
        stamps = [getattr(part, name) for name in STEPS]
        reached = stamps[: FUNNEL.index(part.status) + 1]
        assert all(reached) and reached == sorted(reached), part
        assert all(s <= timezone.now() for s in reached)


def test_conversions_come_only_from_orders_inside_the_window(seeded: User) -> None:
    days = settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS
    converted = list(Participation.objects.filter(status="converted").select_related("transaction"))
    assert converted, "the demo shows conversions"
    for part in converted:
        since = timezone.localdate(part.invited_at)
        order = part.transaction
        assert order is not None and order.customer_id == part.customer_id
        assert order.status not in ("cancelled", "refunded")
        assert since <= order.order_date <= since + dt.timedelta(days=days)
    # No participation links an order placed before its invitation, converted or not.
    for part in Participation.objects.exclude(transaction=None).select_related("transaction"):
        assert part.transaction.order_date >= timezone.localdate(part.invited_at)


def test_campaign_revenue_follows_the_rule_and_roi_is_plausible(seeded: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _orders_in_window_sql(), {"tz": settings.TIME_ZONE, "days": settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS}
        )
        expected = {campaign_id: Decimal(total) for campaign_id, total in cursor.fetchall()}
    revenue = budget = Decimal("0")
    for campaign in Campaign.objects.all():
        stats = campaign_stats(campaign=campaign, user=seeded)
        assert stats["revenue"] == expected.get(campaign.pk, Decimal("0")), campaign.name
        if campaign.status == "planned":
            assert stats["funnel"]["registered"] == 0 and stats["revenue"] == 0
            continue
        # Each campaign returns at most its target revenue (five times its budget).
        assert stats["roi"] is not None and -1 <= stats["roi"] <= 4, (campaign.name, stats["roi"])
        revenue += stats["revenue"]
        budget += campaign.budget
    assert revenue > 0
    assert -1 < (revenue - budget) / budget <= 4
