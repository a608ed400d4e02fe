"""The attribution window: a campaign earns only what its converted participants ordered
from the day of their invitation up to CRM_CAMPAIGN_ATTRIBUTION_DAYS days later."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from campaigns.selectors import campaign_figures, campaign_stats
from campaigns.services import participation_update
from crm.core.errors import DomainError
from tests.factories import CampaignFactory, CustomerFactory, ParticipationFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def _invited(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def _converted(campaign: Any, owner: Any, *, invited_days_ago: int) -> Any:
    customer = CustomerFactory(owner=owner)
    return ParticipationFactory(
        campaign=campaign, customer=customer, status="converted", invited_at=_invited(invited_days_ago)
    )


def _order(part: Any, *, days_ago: int, amount: str, status: str = "completed") -> Any:
    return TransactionFactory(
        customer=part.customer,
        order_date=timezone.localdate() - dt.timedelta(days=days_ago),
        amount=Decimal(amount),
        status=status,
    )


def test_only_orders_inside_the_window_after_the_invitation_count(manager: Any, rep1: Any, settings: Any) -> None:
    settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS = 30
    campaign = CampaignFactory(budget=Decimal("1000"))
    part = _converted(campaign, rep1, invited_days_ago=60)
    _order(part, days_ago=61, amount="5000")  # the day before the invitation
    _order(part, days_ago=60, amount="100")  # the day of the invitation
    _order(part, days_ago=30, amount="200")  # the window's last day
    _order(part, days_ago=29, amount="7000")  # one day after the window
    _order(part, days_ago=40, amount="9000", status="cancelled")
    _order(part, days_ago=40, amount="8000", status="refunded")
    stats = campaign_stats(campaign=campaign, user=manager)
    assert stats["revenue"] == Decimal("300")
    assert stats["roi"] == round((Decimal("300") - Decimal("1000")) / Decimal("1000"), 4)
    assert campaign_figures(user=manager, campaign_ids=[campaign.pk])[campaign.pk]["revenue"] == Decimal("300")


def test_the_setting_changes_the_result(manager: Any, rep1: Any, settings: Any) -> None:
    campaign = CampaignFactory()
    part = _converted(campaign, rep1, invited_days_ago=100)
    _order(part, days_ago=95, amount="1000")  # 5 days after the invitation
    _order(part, days_ago=40, amount="2000")  # 60 days after
    settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS = 10
    assert campaign_stats(campaign=campaign, user=manager)["revenue"] == Decimal("1000")
    settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS = 90
    assert campaign_stats(campaign=campaign, user=manager)["revenue"] == Decimal("3000")
    assert campaign_stats(campaign=campaign, user=manager)["attribution_days"] == 90


def test_a_participant_who_did_not_convert_earns_nothing(manager: Any, rep1: Any) -> None:
    campaign = CampaignFactory()
    part = ParticipationFactory(
        campaign=campaign, customer=CustomerFactory(owner=rep1), status="attended", invited_at=_invited(5)
    )
    _order(part, days_ago=1, amount="4000")
    assert campaign_stats(campaign=campaign, user=manager)["revenue"] == Decimal("0")


def test_a_linked_order_must_lie_in_the_window(rep1: Any, settings: Any) -> None:
    settings.CRM_CAMPAIGN_ATTRIBUTION_DAYS = 30
    part = ParticipationFactory(customer=CustomerFactory(owner=rep1), status="attended", invited_at=_invited(50))
    before = _order(part, days_ago=51, amount="100")
    late = _order(part, days_ago=10, amount="100")
    inside = _order(part, days_ago=45, amount="100")
    for order in (before, late):
        with pytest.raises(DomainError) as refused:
            participation_update(actor=rep1, instance=part, data={"transaction": order}, expected_version=1)
        assert "transaction" in refused.value.field_errors
    part.refresh_from_db()
    written = participation_update(actor=rep1, instance=part, data={"transaction": inside}, expected_version=1)
    assert written.status == "converted" and written.transaction_id == inside.pk


def test_revenue_follows_the_scope(rep1: Any, outsider: Any, manager: Any) -> None:
    campaign = CampaignFactory()
    mine = _converted(campaign, rep1, invited_days_ago=10)
    theirs = _converted(campaign, outsider, invited_days_ago=10)
    _order(mine, days_ago=5, amount="100")
    _order(theirs, days_ago=5, amount="900")
    assert campaign_stats(campaign=campaign, user=rep1)["revenue"] == Decimal("100")
    assert campaign_stats(campaign=campaign, user=outsider)["revenue"] == Decimal("900")
    assert campaign_stats(campaign=campaign, user=manager)["revenue"] == Decimal("100")
