"""The service queues in a real browser: a rep takes an overdue complaint and answers it
from the feedback queue on the desktop, then follows up a service record from the
service queue on a phone (390 px), each without leaving the queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from crm.accounts.choices import Role
from feedback.models import Feedback, ServiceRecord
from tests.factories import CustomerFactory, FeedbackFactory, ServiceRecordFactory, TeamFactory, UserFactory

from .conftest import DESKTOP, PHONE, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "a-Long-enough-pass-42"


def test_a_rep_works_the_queues_on_the_desktop_and_on_a_phone(page: Any) -> None:
    team = TeamFactory(name="华东三组")
    rep = UserFactory(username="xiaoli", role=Role.REP, team=team, first_name="小李", last_name="")
    rep.set_password(PASSWORD)
    rep.save()
    customer = CustomerFactory(owner=rep, team=team, name="苏州精工机械有限公司")
    complaint = FeedbackFactory(
        customer=customer, kind="complaint", subject="到货包装破损", handler=None,
        received_at=timezone.now() - dt.timedelta(hours=30),
    )  # fmt: skip
    FeedbackFactory(customer=CustomerFactory(owner=rep, team=team, name="无锡新材料"), subject="咨询交期")
    record = ServiceRecordFactory(
        customer=customer, result="partial", service_date=timezone.localdate() - dt.timedelta(days=6),
        staff=None, staff_name="", content="更换主轴电机",
    )  # fmt: skip

    sign_in(page, "xiaoli", PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto("/service/feedback/")
    row = page.get_by_test_id(f"feedback-{complaint.pk}")
    assert "到货包装破损" in row.inner_text() and row.get_by_test_id("overdue").is_visible()
    assert "2" in page.get_by_test_id("count-open").inner_text()
    screenshot(page, "feedback-queue-desktop")
    row.get_by_role("button", name="认领").click()
    page.get_by_test_id(f"feedback-{complaint.pk}").get_by_test_id("saved").wait_for()
    row = page.get_by_test_id(f"feedback-{complaint.pk}")
    assert "小李" in row.get_by_test_id("handler").inner_text()
    row.locator("summary", has_text="处理").click()
    row.get_by_label("给客户的回复").fill("已补发新货，破损件由物流承担")
    row.get_by_label("此回复即解决").check()
    row.get_by_role("button", name="保存回复").click()
    page.get_by_test_id(f"feedback-{complaint.pk}").get_by_test_id("status").get_by_text("已解决").wait_for()
    row = page.get_by_test_id(f"feedback-{complaint.pk}")
    assert "内回复" in row.get_by_test_id("wait").inner_text()
    assert page.url.endswith("/service/feedback/"), "worked in place"
    assert "1" in page.get_by_test_id("count-open").inner_text(), "the counts follow the row"
    page.get_by_test_id("select-all").check()
    assert page.get_by_test_id("bulk-form").get_by_text("2").count() >= 1
    page.get_by_test_id("bulk-form").get_by_role("button", name="分派").click()
    page.get_by_text("已分派 1 行").wait_for()
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.handler == rep and complaint.first_response_at is not None

    page.set_viewport_size(PHONE)
    page.goto("/service/records/?status=open")
    row = page.get_by_test_id(f"service-{record.pk}")
    assert "已开 6 天" in row.inner_text() and row.get_by_test_id("overdue").count() == 1
    screenshot(page, "service-queue-phone")
    row.locator("summary", has_text="处理").click()
    row.get_by_label("所做处理").fill("回访确认设备运行正常")
    row.get_by_label("结果").select_option("resolved")
    row.get_by_role("button", name="保存跟进").click()
    page.get_by_test_id(f"service-{record.pk}").get_by_test_id("status").get_by_text("已解决").wait_for()
    row = page.get_by_test_id(f"service-{record.pk}")
    assert "6 天后解决" in row.get_by_test_id("wait").inner_text()
    screenshot(page, "service-queue-phone-followed-up")
    record.refresh_from_db()
    assert record.result == "resolved" and "回访确认设备运行正常" in record.follow_up
    assert Feedback.objects.filter(handler=rep).count() == 2 and ServiceRecord.objects.count() == 1
