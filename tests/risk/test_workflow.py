"""Working alerts: who may do what, comments, and being told exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db.models import Q

from crm.accounts.models import Notification
from risk import services
from risk.choices import ScanTrigger
from risk.models import AlertComment, RiskAlert, RiskRule
from risk.notifications import notify_urgent_alerts, send_digests
from tests import server_settings
from tests.api_contract import detail_url
from tests.factories import CustomerFactory, RiskAlertFactory, TransactionFactory

pytestmark = pytest.mark.django_db
ALERTS = "/api/v1/risk-alerts/"
AS_OF = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 30)


def _late(customer: Any, days: int) -> Any:
    return TransactionFactory(
        customer=customer, amount=Decimal("8000"), order_date=TODAY - dt.timedelta(days=days + 30),
        due_date=TODAY - dt.timedelta(days=days), status="pending",
    )  # fmt: skip


def test_a_rep_cannot_touch_another_teams_alert(api: Any, rep1: Any, outsider: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=outsider))
    url = detail_url(ALERTS, alert.pk)
    dismiss = {"status": "dismissed", "resolution_note": "不是我的"}
    assert api(rep1).patch(url, dismiss, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    assert api(rep1).get(url).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"
    assert api(outsider).patch(url, dismiss, format="json", HTTP_IF_MATCH='"1"').status_code == 200


def test_only_managers_reassign_and_the_new_assignee_is_told(
    api: Any, manager: Any, rep1: Any, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    alert = RiskAlertFactory(customer=customer, assignee=rep1)
    url = detail_url(ALERTS, alert.pk)
    refused = api(rep1).patch(url, {"assignee": manager.pk}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400 and "assignee" in refused.json()["fields"]
    assert RiskAlert.objects.get(pk=alert.pk).assignee == rep1
    with django_capture_on_commit_callbacks(execute=True):
        moved = api(manager).patch(url, {"assignee": admin_user.pk}, format="json", HTTP_IF_MATCH='"1"')
    assert moved.status_code == 200
    note = Notification.objects.get(user=admin_user)
    assert note.link == f"/alerts/{alert.pk}/" and customer.name in note.title
    with django_capture_on_commit_callbacks(execute=True):  # taking it oneself tells no one
        api(manager).patch(url, {"assignee": manager.pk}, format="json", HTTP_IF_MATCH='"2"')
    assert not Notification.objects.filter(user=manager).exists()


def test_comments_are_kept_and_audited(rep1: Any) -> None:
    from crm.audit.models import AuditEvent

    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1))
    comment = services.alert_comment_add(actor=rep1, alert=alert, body="  已电话联系财务，周五前付款  ")
    assert comment.body == "已电话联系财务，周五前付款" and comment.author == rep1
    assert AuditEvent.objects.filter(resource="risk.alertcomment", object_id=str(comment.pk)).exists()
    with pytest.raises(services.DomainError):
        services.alert_comment_add(actor=rep1, alert=alert, body="   ")
    assert AlertComment.objects.count() == 1


def test_urgent_alerts_are_told_once_even_when_the_scan_runs_again(
    rep1: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep1.email = "rep1@example.com"
    rep1.save()
    customer = CustomerFactory(owner=rep1)
    _late(customer, days=70)  # high
    _late(customer, days=5)  # low: not urgent, not told
    with django_capture_on_commit_callbacks(execute=True):
        services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF)
    assert len(mail.outbox) == 1 and "1" in mail.outbox[0].subject
    assert Notification.objects.filter(user=rep1).count() == 1
    print(list(RiskAlert.objects.filter(customer=customer).values_list("rule__code", "severity", "subject")))
    urgent = RiskAlert.objects.get(customer=customer, severity="high")
    assert urgent.notified_at is not None
    assert RiskAlert.objects.get(customer=customer, severity="low").notified_at is None
    with django_capture_on_commit_callbacks(execute=True):
        services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF)
    assert notify_urgent_alerts() == 0
    assert len(mail.outbox) == 1 and Notification.objects.filter(user=rep1).count() == 1
    # The low one ages into high: it is told about then, once.
    with django_capture_on_commit_callbacks(execute=True):
        services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF + dt.timedelta(days=60))
    assert len(mail.outbox) == 2 and Notification.objects.filter(user=rep1).count() == 2


def test_the_daily_digest_goes_out_once_a_day(rep1: Any, rep2: Any) -> None:
    rep1.email = "rep1@example.com"
    rep1.save()
    RiskAlertFactory(customer=CustomerFactory(owner=rep1), assignee=rep1, severity="critical")
    RiskAlertFactory(
        customer=CustomerFactory(owner=rep1), assignee=rep1, severity="low",
        due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    RiskAlertFactory(customer=CustomerFactory(owner=rep2), assignee=rep2, status="resolved", resolution_note="ok")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
        assert send_digests(day=TODAY) == 1
        assert send_digests(day=TODAY) == 0
    note = Notification.objects.get(user=rep1, key=f"risk-digest-{TODAY}")
    assert "2" in note.title and "1" in note.body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rep1@example.com"]
    assert not Notification.objects.filter(user=rep2).exists()


def test_a_manual_urgent_alert_is_told_at_once(
    manager: Any, rep1: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep1.email = "rep1@example.com"
    rep1.save()
    rule = RiskRule.objects.get(code="complaint-spike")  # critical by default
    with django_capture_on_commit_callbacks(execute=True):
        alert = services.risk_alert_create(
            actor=manager, data={"customer": CustomerFactory(owner=rep1), "rule": rule, "severity": "critical"}
        )
    alert.refresh_from_db()
    assert alert.notified_at is not None and len(mail.outbox) == 1


def test_a_workers_closing_step_queues_the_telling_as_a_task_of_its_own(
    rep1: Any, rep2: Any, django_capture_on_commit_callbacks: Any, tasks_run_here: list[str]
) -> None:
    from risk.tasks import tell_after_scan

    rep1.email, rep2.email = "rep1@example.com", "rep2@example.com"
    rep1.save()
    rep2.save()
    customer = CustomerFactory(owner=rep1)
    _late(customer, days=70)  # high: to be told
    RiskAlertFactory(customer=CustomerFactory(owner=rep2), assignee=rep2, severity="low")  # in rep2's digest
    scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.SCHEDULE, as_of=AS_OF, queue=False)
    steps = list(scan.steps.order_by("pk").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks() as callbacks:
        for step_id in steps:
            services.risk_step_run(step_id=step_id, on_worker=True)
    scan.refresh_from_db()
    # The scan is done before anyone is told: the telling waits for its task.
    assert scan.state == "done" and len(callbacks) == 1
    urgent = RiskAlert.objects.filter(customer=customer, severity="high")
    assert urgent.exists() and all(alert.to_tell for alert in urgent) and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert tasks_run_here == ["risk.tell_after_scan"]
    assert not urgent.filter(Q(to_tell=True) | Q(notified_at__isnull=True)).exists()
    # Rep1 told about the urgent alert, then both get the scheduled scan's digest.
    assert sorted(m.to[0] for m in mail.outbox) == ["rep1@example.com", "rep1@example.com", "rep2@example.com"]
    # A retried task tells no one twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert tell_after_scan.apply(args=(scan.pk,)).get() == 0
    assert len(mail.outbox) == 3


def test_a_workers_step_keeps_its_statements_in_its_own_process() -> None:
    """On the workers the scan's steps already share the cores: a statement spread over
    parallel processes would only make them take turns.  In one process it may."""
    CustomerFactory()
    default = server_settings.current()
    scan = services.risk_scan_start(actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF, queue=False)
    steps = list(scan.steps.order_by("pk").values_list("pk", flat=True))

    def on_workers() -> None:
        for step_id in steps:
            services.risk_step_run(step_id=step_id, on_worker=True)

    comparison = "CREATE TEMPORARY TABLE risk_diff"
    assert server_settings.during(comparison, on_workers) == ["0"] * len(steps)
    in_one_process = server_settings.during(
        comparison,
        lambda: services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND, as_of=AS_OF + dt.timedelta(days=1)),
    )
    assert in_one_process == [default] * len(steps) and default != "0"
    assert server_settings.current() == default  # the step's own, not the caller's transaction
