"""The manager's tier dashboard in a real browser: numbers that drill down, and Evaluate now."""

from __future__ import annotations

from typing import Any

import pytest

from crm.accounts.choices import Role
from tests.factories import CustomerFactory, TeamFactory, TransactionFactory, UserFactory
from tiers import services
from tiers.choices import RunTrigger
from tiers.models import TierRun

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def test_the_dashboard_drills_down_and_starts_an_evaluation(page: Any, reference_tiers: None) -> None:
    team = TeamFactory(name="华东一组")
    manager = UserFactory(username="laozhang", role=Role.MANAGER, team=team)
    manager.set_password(PASSWORD)
    manager.save()
    team.manager = manager
    team.save()
    rep = UserFactory(username="xiaoli", role=Role.REP, team=team)
    for n in range(3):
        customer = CustomerFactory(owner=rep, name=f"客户{n}")
        for _ in range(n * 8):
            TransactionFactory(customer=customer, amount=25_000, status="completed")
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)

    sign_in(page, "laozhang", PASSWORD)
    page.goto("/tiers/")
    assert page.get_by_role("heading", level=1).inner_text() == "客户等级"
    matrix = page.get_by_test_id("matrix")
    first_link = matrix.get_by_role("link").first
    count = int(first_link.inner_text())
    screenshot(page, "tier-dashboard-desktop")
    first_link.click()
    page.get_by_test_id("moves").wait_for()
    assert page.get_by_test_id("moves").locator("tbody tr").count() == count
    page.goto("/tiers/")
    page.get_by_role("button", name="立即评级").click()
    page.wait_for_url("**/tiers/runs/")
    assert TierRun.objects.filter(trigger="manual", requested_by=manager).exists()


def test_an_admin_previews_a_stricter_policy_before_saving_it(page: Any, reference_tiers: None) -> None:
    from customers.models import Customer
    from tiers.models import ScoringPolicy

    admin = UserFactory(username="guanliyuan", role=Role.ADMIN)
    admin.set_password(PASSWORD)
    admin.save()
    rep = UserFactory(username="xiaowang", role=Role.REP)
    for n in range(3):
        customer = CustomerFactory(owner=rep, name=f"预览客户{n}")
        for _ in range(n * 8 + 1):
            TransactionFactory(customer=customer, amount=25_000, status="completed")
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    # The best-graded customer, and a threshold for its tier just under the next one's.
    top = Customer.objects.select_related("tier").order_by("-tier__rank", "-tier_score").first()
    thresholds = ScoringPolicy.objects.get(is_active=True).thresholds
    above = [value for code, value in thresholds.items() if value > thresholds[top.tier.code]]
    stricter = min(above) - 0.01 if above else 99.99

    sign_in(page, "guanliyuan", PASSWORD)
    page.goto("/console/tier-policy/")
    page.locator(f"input[name=threshold_{top.tier.code}]").fill(str(stricter))
    page.get_by_role("button", name="预览影响").click()
    preview = page.get_by_test_id("preview")
    preview.wait_for()
    # A stricter threshold does not drop anyone at once: as a run would, the grace holds.
    assert top.name in page.get_by_test_id("preview-grace").inner_text()
    assert "宽限期" in page.get_by_test_id("preview-held").inner_text()
    screenshot(page, "tier-policy-preview")
    assert ScoringPolicy.objects.count() == 1  # a preview writes nothing
    page.get_by_role("button", name="保存为新版本").click()
    page.wait_for_url("**/console/tier-policy/")
    assert ScoringPolicy.objects.get(is_active=True).version == 2
