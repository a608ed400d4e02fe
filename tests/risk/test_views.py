"""The alert pages: the inbox, one alert and working it, the scans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risk import services
from risk.choices import ScanTrigger
from risk.models import AlertComment, RiskAlert, RiskRule, RiskScan
from tests.factories import CustomerFactory, RiskAlertFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def _overdue_alert(owner: Any, days: int = 45) -> RiskAlert:
    customer = CustomerFactory(owner=owner, name=f"逾期客户{days}")
    today = timezone.localdate()
    TransactionFactory(
        customer=customer, amount=Decimal("12000"), order_date=today - dt.timedelta(days=days + 30),
        due_date=today - dt.timedelta(days=days), status="pending",
    )  # fmt: skip
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    return RiskAlert.objects.get(customer=customer, rule__code="overdue-payment-30")


def test_the_inbox_lists_my_alerts_most_urgent_first(client: Any, rep1: Any) -> None:
    medium = _overdue_alert(rep1, days=45)
    critical = _overdue_alert(rep1, days=100)
    RiskAlertFactory(customer=CustomerFactory(owner=rep1), assignee=rep1, status="resolved", resolution_note="ok")
    client.force_login(rep1)
    page = client.get("/alerts/")
    assert page.status_code == 200
    items = [row[0] for row in page.context["items"]]
    assert items == [critical, medium]
    assert "逾期 100 天" in page.content.decode()
    urgent = client.get("/alerts/?severity=urgent").context["items"]
    assert [row[0] for row in urgent] == [critical]
    assert [row[0] for row in client.get("/alerts/?rule=complaint-spike").context["items"]] == []
    assert client.get("/alerts/?who=team").context["who"] == "mine"  # a rep has no team view


def test_a_manager_sees_the_teams_alerts_and_the_breached_ones(client: Any, manager: Any, rep1: Any) -> None:
    late = _overdue_alert(rep1, days=95)
    RiskAlert.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    _overdue_alert(rep1, days=10)
    client.force_login(manager)
    assert client.get("/alerts/?who=mine").context["items"] == []  # none assigned to the manager
    assert client.get("/alerts/").context["who"] == "team"  # a manager lands on the team's alerts
    team = client.get("/alerts/?who=team")
    assert len(team.context["items"]) == 2 and str(rep1) in team.content.decode()
    breached = client.get("/alerts/?who=team&breached=1")
    assert [row[0] for row in breached.context["items"]] == [late] and b'data-testid="breached"' in breached.content


def test_the_inbox_costs_the_same_queries_for_many_alerts(client: Any, manager: Any, rep1: Any) -> None:
    _overdue_alert(rep1, days=40)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/alerts/?who=team")
    for days in (50, 70, 95, 120):
        _overdue_alert(rep1, days=days)
    with CaptureQueriesContext(connection) as many:
        client.get("/alerts/?who=team")
    assert len(many) == len(few), "a query per alert"


def test_an_alert_page_says_why_and_what_to_do(client: Any, rep1: Any, outsider: Any) -> None:
    alert = _overdue_alert(rep1, days=45)
    client.force_login(rep1)
    page = client.get(f"/alerts/{alert.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "12,000.00" in text and "45" in text
    assert "当天致电客户财务联系人" in text  # the rule's playbook
    client.force_login(outsider)
    assert client.get(f"/alerts/{alert.pk}/").status_code == 404


def test_working_an_alert(client: Any, rep1: Any) -> None:
    alert = _overdue_alert(rep1)
    client.force_login(rep1)
    url = f"/alerts/{alert.pk}/status/"
    refused = client.post(url, {"status": "dismissed", "resolution_note": "", "version": alert.version})
    assert refused.status_code == 422 and RiskAlert.objects.get(pk=alert.pk).status == "open"
    acked = client.post(url, {"status": "acknowledged", "version": alert.version})
    assert acked.status_code == 302
    stale = client.post(url, {"status": "resolved", "resolution_note": "已回款", "version": alert.version})
    assert stale.status_code == 409
    done = client.post(url, {"status": "dismissed", "resolution_note": "客户已预付", "version": alert.version + 1})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "dismissed" and alert.resolution_note == "客户已预付"
    assert client.post(f"/alerts/{alert.pk}/comment/", {"body": " "}).status_code == 422
    assert client.post(f"/alerts/{alert.pk}/comment/", {"body": "财务确认下周付款"}).status_code == 302
    assert AlertComment.objects.get(alert=alert).author == rep1
    assert "财务确认下周付款" in client.get(f"/alerts/{alert.pk}/").content.decode()


def test_reassigning_is_for_managers(client: Any, manager: Any, rep1: Any, admin_user: Any) -> None:
    alert = _overdue_alert(rep1)
    client.force_login(rep1)
    assert (
        client.post(f"/alerts/{alert.pk}/assign/", {"assignee": manager.pk, "version": alert.version}).status_code
        == 403
    )
    client.force_login(manager)
    page = client.get(f"/alerts/{alert.pk}/")
    choices = {user.pk for user in page.context["assign_form"].fields["assignee"].queryset}
    assert {rep1.pk, manager.pk, admin_user.pk} <= choices
    moved = client.post(f"/alerts/{alert.pk}/assign/", {"assignee": admin_user.pk, "version": alert.version})
    assert moved.status_code == 302 and RiskAlert.objects.get(pk=alert.pk).assignee == admin_user


def test_scans_are_listed_and_managers_start_one(client: Any, manager: Any, rep1: Any) -> None:
    _overdue_alert(rep1)
    client.force_login(rep1)
    page = client.get("/alerts/scans/")
    assert page.status_code == 200 and "回款逾期" in page.content.decode()
    assert client.post("/alerts/scans/start/").status_code == 403
    client.force_login(manager)
    assert client.post("/alerts/scans/start/").status_code == 302
    assert RiskScan.objects.filter(trigger="manual", requested_by=manager).exists()
    assert RiskRule.objects.count() == 5


def test_the_alert_pages_follow_the_field_policy(client: Any, rep1: Any) -> None:
    from crm.access.models import FieldPermission

    alert = _overdue_alert(rep1, days=45)
    for field, level in (("recommended_action", "hidden"), ("explanation", "hidden"), ("severity", "hidden")):
        FieldPermission.objects.update_or_create(
            resource="risk-alerts", field=field, role="rep", defaults={"level": level}
        )
    client.force_login(rep1)
    inbox = client.get("/alerts/").content.decode()
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "逾期 45 天" not in inbox and 'class="badge severity-' not in inbox  # no facts, no severity
    assert "当天致电客户财务联系人" not in page and 'data-testid="facts"' not in page
    assert 'data-testid="severity"' not in page and "回款逾期" in page  # the title is still readable


def test_comments_follow_the_field_policy(client: Any, rep1: Any, manager: Any) -> None:
    from crm.access.models import FieldPermission
    from risk.models import AlertComment

    alert = _overdue_alert(rep1, days=45)
    AlertComment.objects.create(alert=alert, author=manager, body="客户承诺周五前付清")
    FieldPermission.objects.create(resource="alert-comments", field="body", role="rep", level="read")
    client.force_login(rep1)
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "客户承诺周五前付清" in page and 'name="body"' not in page  # read, but no form to write one
    assert client.post(f"/alerts/{alert.pk}/comment/", {"body": "试图添加"}).status_code == 403
    FieldPermission.objects.filter(resource="alert-comments", field="body").update(level="hidden")
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "客户承诺周五前付清" not in page and str(manager) in page  # who wrote it, not what
    assert AlertComment.objects.filter(alert=alert).count() == 1
