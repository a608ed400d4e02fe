"""Risk alerts in a real browser: a rep works an overdue-payment alert from the inbox, on
the desktop and on a phone; a manager sees the team's alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm.accounts.choices import Role
from risk import services
from risk.choices import ScanTrigger
from risk.models import AlertComment, RiskAlert
from tests.factories import CustomerFactory, TeamFactory, TransactionFactory, UserFactory

from .conftest import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def test_a_rep_works_an_alert_and_a_manager_sees_the_team(page: Any, reference_risk_rules: None) -> None:
    team = TeamFactory(name="华南二组")
    manager = UserFactory(username="laowang", role=Role.MANAGER, team=team)
    rep = UserFactory(username="xiaochen", role=Role.REP, team=team)
    for user in (manager, rep):
        user.set_password(PASSWORD)
        user.save()
    team.manager = manager
    team.save()
    today = timezone.localdate()
    for days, name in ((75, "深圳华强电子有限公司"), (12, "广州白云物流有限公司")):
        TransactionFactory(
            customer=CustomerFactory(owner=rep, team=team, name=name), amount=Decimal("36800"),
            order_date=today - dt.timedelta(days=days + 30), due_date=today - dt.timedelta(days=days),
            status="pending",
        )  # fmt: skip
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    urgent = RiskAlert.objects.get(customer__name="深圳华强电子有限公司")

    sign_in(page, "xiaochen", PASSWORD)
    page.goto("/alerts/")
    rows = page.get_by_test_id("alerts").locator("tbody tr")
    assert rows.count() == 2 and "深圳华强电子有限公司" in rows.first.inner_text()  # the high one first
    screenshot(page, "alerts-inbox-desktop")
    rows.first.locator("summary").click()  # open the group to its alerts
    rows.first.get_by_role("link", name=urgent.display_title).click()
    page.get_by_test_id("facts").wait_for()
    assert "75" in page.get_by_test_id("facts").inner_text()
    assert "当天致电" in page.get_by_test_id("playbook").inner_text()
    page.get_by_role("textbox", name="备注").fill("已致电财务，约定本周五付款")
    page.get_by_role("button", name="添加备注").click()
    page.get_by_test_id("comments").get_by_text("已致电财务").wait_for()
    page.get_by_test_id("status-form").get_by_label("状态").select_option("acknowledged")
    page.get_by_test_id("status-form").get_by_role("button", name="保存").click()
    page.get_by_test_id("status").get_by_text("已确认").wait_for()
    page.set_viewport_size(PHONE)
    screenshot(page, "alert-phone")
    urgent.refresh_from_db()
    assert urgent.status == "acknowledged" and AlertComment.objects.get(alert=urgent).author == rep

    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="退出登录").click()
    sign_in(page, "laowang", PASSWORD)
    page.goto("/alerts/?who=team")
    assert page.get_by_test_id("alerts").locator("tbody tr").count() == 2
    assert str(rep) in page.get_by_test_id("alerts").inner_text()


def test_an_admin_previews_and_saves_a_risk_rule_and_the_deadlines(page: Any, reference_risk_rules: None) -> None:
    from risk.models import RiskRule, RiskSettings

    admin = UserFactory(username="guanliyuan", role=Role.ADMIN)
    admin.set_password(PASSWORD)
    admin.save()
    rep = UserFactory(username="xiaozhou", role=Role.REP)
    customer = CustomerFactory(owner=rep, name="久欠款贸易公司")
    today = timezone.localdate()
    for days in (5, 45):
        TransactionFactory(
            customer=customer, amount=Decimal("8000"), paid_amount=Decimal("0"), status="pending",
            order_date=today - dt.timedelta(days=days + 30), due_date=today - dt.timedelta(days=days),
        )  # fmt: skip
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    rule = RiskRule.objects.get(code="overdue-payment-30")

    sign_in(page, "guanliyuan", PASSWORD)
    page.goto("/console/")
    page.get_by_role("navigation", name="控制台").get_by_role("link", name="风险规则").click()
    page.get_by_test_id("risk-rules").get_by_role("link", name=rule.name).click()
    page.get_by_label("超过到期日的天数").fill("30")
    page.get_by_role("button", name="预览将发现的风险").click()
    preview = page.get_by_test_id("rule-preview")
    preview.wait_for()
    changes = page.get_by_test_id("preview-changes").inner_text()
    assert "将自动解决的未结预警：1" in changes  # the 5-day-old debt no longer counts
    screenshot(page, "risk-rule-preview")
    assert RiskRule.objects.get(pk=rule.pk).version == rule.version  # a preview writes nothing
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/console/risk-rules/")
    assert RiskRule.objects.get(pk=rule.pk).params["days_overdue"] == 30

    page.set_viewport_size(PHONE)
    page.get_by_test_id("risk-settings").get_by_role("link", name="修改").click()
    page.get_by_label("高 预警的处理时限（小时）").fill("0")
    page.get_by_role("button", name="保存", exact=True).click()
    assert page.locator(".errorlist").first.is_visible()  # at the field, nothing saved
    page.get_by_label("高 预警的处理时限（小时）").fill("8")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/console/risk-rules/")
    assert RiskSettings.current().sla_for("high") == dt.timedelta(hours=8)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_rep_opens_and_acknowledges_a_group_of_alerts(page: Any, reference_risk_rules: None) -> None:
    """Five late invoices of one customer are one row: opened, it lists the orders;
    acknowledged, every one of them is."""
    rep = UserFactory(username="xiaoli", role=Role.REP)
    rep.set_password(PASSWORD)
    rep.save()
    today = timezone.localdate()
    late = CustomerFactory(owner=rep, name="杭州五单欠款贸易有限公司")
    for i, days in enumerate((10, 25, 40, 70, 100)):
        TransactionFactory(
            customer=late, amount=Decimal("8800"), external_ref=f"ERP-2026-{i:03d}", status="pending",
            order_date=today - dt.timedelta(days=days + 30), due_date=today - dt.timedelta(days=days),
        )  # fmt: skip
    other = CustomerFactory(owner=rep, name="宁波单笔欠款有限公司")
    TransactionFactory(
        customer=other, amount=Decimal("5000"), status="pending",
        order_date=today - dt.timedelta(days=50), due_date=today - dt.timedelta(days=20),
    )  # fmt: skip
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    assert RiskAlert.objects.filter(customer=late).count() == 5

    page.set_viewport_size(DESKTOP)
    sign_in(page, "xiaoli", PASSWORD)
    page.goto("/alerts/")
    rows = page.get_by_test_id("alerts").locator("tbody tr")
    assert rows.count() == 2  # six alerts, two lines of work
    group = rows.filter(has_text="杭州五单欠款贸易有限公司")
    assert group.get_by_test_id("count").inner_text() == "5"
    assert group.get_by_test_id("worst").inner_text() == "严重"  # 100 days late: critical
    assert not group.get_by_text("ERP-2026-004").is_visible()
    group.locator("summary").click()
    group.get_by_text("ERP-2026-004").wait_for()
    assert group.get_by_test_id("members").locator("li").count() == 5
    screenshot(page, "alerts-group-open-desktop")
    group.get_by_role("button", name="确认").click()
    page.get_by_text("完成：5 条预警已更新。").wait_for()
    assert set(RiskAlert.objects.filter(customer=late).values_list("status", flat=True)) == {"acknowledged"}
    assert RiskAlert.objects.get(customer=other).status == "open"
    # Ticked in bulk: the other group is resolved from the bulk bar.
    page.get_by_test_id("alerts").locator("tbody tr").filter(has_text="宁波单笔欠款有限公司").get_by_role(
        "checkbox"
    ).check()
    page.get_by_test_id("bulk-form").get_by_label("对勾选的分组").select_option("resolved")
    page.get_by_test_id("bulk-submit").click()
    page.get_by_text("完成：1 条预警已更新。").wait_for()
    assert RiskAlert.objects.get(customer=other).status == "resolved"
