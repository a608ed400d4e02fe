"""Campaigns in a real browser, at desktop width: a manager plans a campaign, invites the
customers of a filter (only those whose contact consents to marketing) and records
attendance for the ticked participants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Participation
from crm.accounts.choices import Role
from tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def test_a_manager_creates_a_campaign_invites_from_a_filter_and_records_attendance(page: Any) -> None:
    team = TeamFactory(name="华东三组")
    manager = UserFactory(username="laoli", role=Role.MANAGER, team=team)
    rep = UserFactory(username="xiaozhou", role=Role.REP, team=team)
    manager.set_password(PASSWORD)
    manager.save()
    team.manager = manager
    team.save()
    for name, industry, consents in (
        ("杭州恒信软件有限公司", "it", True),
        ("苏州瑞丰信息技术有限公司", "it", True),
        ("南京博创网络科技有限公司", "it", False),
        ("宁波安达商贸有限公司", "retail", True),
    ):
        customer = CustomerFactory(owner=rep, team=team, name=name, industry=industry)
        ContactFactory(customer=customer, is_primary=True, marketing_consent=consents)

    sign_in(page, "laoli", PASSWORD)
    page.goto("/campaigns/")
    page.get_by_test_id("new-campaign").click()
    form = page.get_by_test_id("campaign-form")
    start = timezone.localdate() + dt.timedelta(days=20)
    form.locator('[name="name"]').fill("2027 华东软件客户交流会")
    form.locator('[name="channel"]').select_option("seminar")
    form.locator('[name="start_date"]').fill(start.isoformat())
    form.locator('[name="end_date"]').fill((start + dt.timedelta(days=1)).isoformat())
    form.locator('[name="budget"]').fill("60000")
    form.locator('[name="target_participants"]').fill("50")
    form.locator('[name="content"]').fill("行业方案分享与新品演示")
    screenshot(page, "campaign-form-desktop")
    form.get_by_role("button", name="创建").click()
    page.get_by_test_id("invite").wait_for()
    campaign = Campaign.objects.get(name="2027 华东软件客户交流会")
    assert campaign.owner == manager and campaign.channel == "seminar"

    page.get_by_test_id("invite").click()
    page.get_by_test_id("invite-filter").locator('[name="industry"]').select_option("it")
    page.get_by_test_id("invite-filter").get_by_role("button", name="筛选").click()
    preview = page.get_by_test_id("invite-preview")
    preview.get_by_text("3 位客户符合条件").wait_for()
    assert "跳过（无联系人同意营销）：1" in preview.inner_text()
    screenshot(page, "campaign-invite-desktop")
    page.get_by_test_id("invite-all").click()
    page.get_by_text("已邀请 2 位客户").wait_for()
    assert set(Participation.objects.filter(campaign=campaign).values_list("customer__name", flat=True)) == {
        "杭州恒信软件有限公司",
        "苏州瑞丰信息技术有限公司",
    }

    table = page.get_by_test_id("participants")
    table.get_by_role("checkbox", name="选择 杭州恒信软件有限公司").check()
    page.get_by_test_id("record-form").locator('[name="status"]').select_option("attended")
    page.get_by_test_id("record").click()
    page.get_by_text("已将 1 位标记为已参加").wait_for()
    statuses = dict(Participation.objects.filter(campaign=campaign).values_list("customer__name", "status"))
    assert statuses == {"杭州恒信软件有限公司": "attended", "苏州瑞丰信息技术有限公司": "invited"}
    attended = Participation.objects.get(campaign=campaign, status="attended")
    assert attended.invited_at <= attended.registered_at <= attended.attended_at
    screenshot(page, "campaign-detail-desktop")
