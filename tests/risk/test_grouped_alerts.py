"""Alerts that don't drown you: open alerts grouped by customer and rule (the inbox, My
day, the customer 360), group and bulk actions, the manager's landing view, the digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.accounts.models import Notification
from crm.audit.models import AuditEvent
from crm.core.errors import DomainError, NotPermitted, VersionConflict
from risk import services
from risk.models import AlertComment, RiskAlert
from risk.notifications import send_digests
from risk.selectors import risk_alert_group_fill, risk_alert_groups, risk_alert_list
from tests.factories import CustomerFactory, RiskAlertFactory, RiskRuleFactory, TransactionFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _late_invoices(customer: Any, rule: Any, n: int, assignee: Any = None) -> list[RiskAlert]:
    """``n`` overdue-payment alerts of one rule on one customer, one per order, the
    severities and deadlines spread out."""
    severities = ["low", "medium", "critical", "high", "medium"]
    alerts = []
    for i in range(n):
        order = TransactionFactory(customer=customer, external_ref=f"ERP-{customer.pk}-{rule.pk}-{i}")
        alerts.append(
            RiskAlertFactory(
                customer=customer,
                rule=rule,
                subject=f"order-{order.pk}",
                transaction=order,
                severity=severities[i % len(severities)],
                assignee=assignee or customer.owner,
                due_at=NOW + dt.timedelta(hours=10 * (i + 1)),
            )  # fmt: skip
        )
    return alerts


def _versions(alerts: list[RiskAlert]) -> dict[int, int]:
    return {alert.pk: alert.version for alert in alerts}


def _events(alerts: list[RiskAlert]) -> int:
    return AuditEvent.objects.filter(
        resource="risk.riskalert", action="update", object_id__in=[str(a.pk) for a in alerts]
    ).count()


# ------------------------------------------------------------------ grouping
def test_five_late_invoices_are_one_line_of_work(rep1: Any) -> None:
    rule, other_rule = RiskRuleFactory(), RiskRuleFactory(kind="inactivity", name="Silent")
    customer = CustomerFactory(owner=rep1, name="五张逾期发票公司")
    five = _late_invoices(customer, rule, 5)
    RiskAlertFactory(customer=customer, rule=other_rule, subject="", severity="medium", assignee=rep1)
    RiskAlertFactory(customer=customer, rule=rule, subject="closed", status="resolved", assignee=rep1)
    open_alerts = risk_alert_list(user=rep1).filter(status__in=["open", "acknowledged"])
    rows = list(risk_alert_groups(alerts=open_alerts))
    assert len(rows) == 2
    groups = risk_alert_group_fill(alerts=open_alerts, rows=rows)
    top = groups[0]  # the critical one first
    assert (top.customer_id, top.rule_id, top.count, top.worst) == (customer.pk, rule.pk, 5, "critical")
    assert top.earliest_due == min(a.due_at for a in five)
    assert [a.severity for a in top.alerts][:2] == ["critical", "high"]  # the worst first inside too
    assert {a.pk for a in top.alerts} == {a.pk for a in five}
    assert groups[1].count == 1 and groups[1].worst == "medium"


def test_the_inbox_shows_groups_expandable_to_their_orders(client: Any, rep1: Any) -> None:
    rule = RiskRuleFactory()
    customer = CustomerFactory(owner=rep1, name="五张逾期发票公司")
    five = _late_invoices(customer, rule, 5)
    client.force_login(rep1)
    page = client.get("/alerts/")
    assert page.status_code == 200
    assert len(page.context["groups"]) == 1 and page.context["groups"][0].count == 5
    html = page.content.decode()
    assert html.count('class="alert-group"') == 1
    assert f'data-testid="group-{customer.pk}-{rule.pk}"' in html
    for alert in five:  # the expand lists every alert, with its order
        assert f'data-testid="alert-{alert.pk}"' in html
        assert alert.transaction.external_ref in html
    assert 'class="table table-cards' in html and "data-label=" in html


def test_the_inbox_costs_the_same_queries_for_many_groups(
    client: Any, manager: Any, rep1: Any, django_assert_max_num_queries: Any
) -> None:
    rule = RiskRuleFactory()
    _late_invoices(CustomerFactory(owner=rep1), rule, 3)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/alerts/")
    for _ in range(12):
        _late_invoices(CustomerFactory(owner=rep1), rule, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/alerts/")
    assert len(page.context["groups"]) == 13


def test_groups_are_paged(client: Any, rep1: Any) -> None:
    rule = RiskRuleFactory()
    for _ in range(27):
        RiskAlertFactory(customer=CustomerFactory(owner=rep1), rule=rule, assignee=rep1)
    client.force_login(rep1)
    assert len(client.get("/alerts/").context["groups"]) == 25
    second = client.get("/alerts/?page=2")
    assert len(second.context["groups"]) == 2 and second.context["page"].paginator.count == 27
    assert second.context["page"].number == 2 and not second.context["page"].has_next()
    beyond = client.get("/alerts/?page=9")  # past the end: the last page
    assert beyond.context["page"].number == 2 and len(beyond.context["groups"]) == 2
    assert len(client.get("/alerts/?page=x").context["groups"]) == 25
    # A rep's groups (reached through their customers) are worked out once, for the page
    # and its count together.
    with CaptureQueriesContext(connection) as queries:
        client.get("/alerts/")
    assert sum("GROUP BY" in query["sql"] and "risk_riskalert" in query["sql"] for query in queries) == 1


# ------------------------------------------------------------------ group actions
def test_acknowledging_a_group_acts_on_its_alerts_together(
    client: Any, rep1: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rule = RiskRuleFactory()
    customer = CustomerFactory(owner=rep1)
    alerts = _late_invoices(customer, rule, 4)
    RiskAlert.objects.filter(pk=alerts[0].pk).update(status="acknowledged", acknowledged_at=NOW)
    alerts[0].refresh_from_db()
    client.force_login(rep1)
    value = ",".join(f"{a.pk}:{a.version}" for a in alerts)
    response = client.post("/alerts/groups/status/", {"alerts": value, "status": "acknowledged", "next": "/alerts/"})
    assert response.status_code == 302 and response["Location"] == "/alerts/"
    statuses = dict(RiskAlert.objects.filter(customer=customer).values_list("pk", "status"))
    assert set(statuses.values()) == {"acknowledged"}
    assert _events(alerts[1:]) == 3 and _events(alerts[:1]) == 0  # the one acknowledged already stays as it was
    fresh = {a.pk: a for a in RiskAlert.objects.filter(customer=customer)}
    assert all(fresh[a.pk].version == a.version + 1 for a in alerts[1:])
    assert all(fresh[a.pk].acknowledged_at for a in alerts)
    # Resolving the group afterwards closes them all, with the note.
    value = ",".join(f"{pk}:{a.version}" for pk, a in fresh.items())
    client.post("/alerts/groups/status/", {"alerts": value, "status": "resolved", "note": "全部已付款"})
    assert set(RiskAlert.objects.filter(customer=customer).values_list("status", "resolution_note")) == {
        ("resolved", "全部已付款")
    }


def test_a_group_action_is_set_based(rep1: Any) -> None:
    rule = RiskRuleFactory()
    few = _late_invoices(CustomerFactory(owner=rep1), rule, 2)
    many = _late_invoices(CustomerFactory(owner=rep1), rule, 5) + _late_invoices(CustomerFactory(owner=rep1), rule, 5)
    counts = []
    for alerts in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert services.risk_alert_bulk_status(actor=rep1, versions=_versions(alerts), status="acknowledged") == (
                len(alerts)
            )
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1] <= 14, counts
    assert _events(few + many) == len(few + many)


def test_a_rep_acts_only_on_alerts_they_may_see(client: Any, rep1: Any, rep2: Any, outsider: Any) -> None:
    rule = RiskRuleFactory()
    mine = _late_invoices(CustomerFactory(owner=rep1), rule, 2)
    theirs = _late_invoices(CustomerFactory(owner=rep2), rule, 2)  # a teammate's
    foreign = _late_invoices(CustomerFactory(owner=outsider), rule, 1)
    for others in (theirs, foreign):
        with pytest.raises(DomainError):
            services.risk_alert_bulk_status(actor=rep1, versions=_versions(mine + others), status="resolved")
    assert not RiskAlert.objects.exclude(status="open").exists()  # nothing was written, not even rep1's own
    client.force_login(rep1)
    value = ",".join(f"{a.pk}:{a.version}" for a in theirs)
    client.post("/alerts/groups/status/", {"alerts": value, "status": "acknowledged"})
    assert not RiskAlert.objects.exclude(status="open").exists()
    assert _events(mine + theirs + foreign) == 0


def test_a_group_action_respects_versions_and_the_workflow(rep1: Any) -> None:
    rule = RiskRuleFactory()
    alerts = _late_invoices(CustomerFactory(owner=rep1), rule, 3)
    stale = _versions(alerts)
    RiskAlert.objects.filter(pk=alerts[1].pk).update(version=alerts[1].version + 1)  # someone else worked it
    with pytest.raises(VersionConflict):
        services.risk_alert_bulk_status(actor=rep1, versions=stale, status="acknowledged")
    assert not RiskAlert.objects.filter(status="acknowledged").exists()
    RiskAlert.objects.filter(pk=alerts[2].pk).update(status="resolved", resolved_at=NOW)
    fresh = {a.pk: a.version for a in RiskAlert.objects.filter(pk__in=stale)}
    with pytest.raises(DomainError) as closed:
        services.risk_alert_bulk_status(actor=rep1, versions=fresh, status="acknowledged")
    assert "status" in closed.value.field_errors  # a closed alert stays closed
    with pytest.raises(DomainError) as no_reason:
        services.risk_alert_bulk_status(actor=rep1, versions={alerts[0].pk: fresh[alerts[0].pk]}, status="dismissed")
    assert "resolution_note" in no_reason.value.field_errors
    with pytest.raises(DomainError):
        services.risk_alert_bulk_status(actor=rep1, versions=fresh, status="open")
    assert _events(alerts) == 0


def test_a_stale_group_action_on_the_page_says_so(client: Any, rep1: Any) -> None:
    alerts = _late_invoices(CustomerFactory(owner=rep1), RiskRuleFactory(), 2)
    client.force_login(rep1)
    value = ",".join(f"{a.pk}:{a.version - 1}" for a in alerts)
    response = client.post("/alerts/groups/status/", {"alerts": value, "status": "resolved"}, follow=True)
    assert "nothing was changed" in response.content.decode() or "均未改动" in response.content.decode()
    assert not RiskAlert.objects.filter(status="resolved").exists()
    assert client.post("/alerts/groups/status/", {"alerts": "1:x", "status": "resolved"}).status_code == 302


# ------------------------------------------------------------------ bulk actions
def test_bulk_acknowledge_of_ticked_groups(client: Any, rep1: Any) -> None:
    rule = RiskRuleFactory()
    first = _late_invoices(CustomerFactory(owner=rep1), rule, 3)
    second = _late_invoices(CustomerFactory(owner=rep1), rule, 2)
    untouched = _late_invoices(CustomerFactory(owner=rep1), rule, 1)
    client.force_login(rep1)
    ticked = [",".join(f"{a.pk}:{a.version}" for a in group) for group in (first, second)]
    client.post("/alerts/bulk/", {"alerts": ticked, "action": "acknowledged", "next": "/alerts/"})
    assert set(RiskAlert.objects.filter(status="acknowledged").values_list("pk", flat=True)) == {
        a.pk for a in first + second
    }
    assert RiskAlert.objects.get(pk=untouched[0].pk).status == "open"
    assert _events(first + second) == 5


def test_bulk_comment_writes_one_audited_comment_per_alert(rep1: Any, outsider: Any) -> None:
    alerts = _late_invoices(CustomerFactory(owner=rep1), RiskRuleFactory(), 2) + _late_invoices(
        CustomerFactory(owner=rep1), RiskRuleFactory(), 3
    )
    with CaptureQueriesContext(connection) as queries:
        assert services.alert_comment_bulk_add(actor=rep1, versions=_versions(alerts), body="已统一致电财务") == 5
    assert len(queries.captured_queries) <= 12
    comments = AlertComment.objects.filter(alert__in=alerts)
    assert comments.count() == 5 and set(comments.values_list("author", "body")) == {(rep1.pk, "已统一致电财务")}
    assert AuditEvent.objects.filter(resource="risk.alertcomment", action="create").count() == 5
    with pytest.raises(DomainError):
        services.alert_comment_bulk_add(actor=outsider, versions=_versions(alerts), body="不是我的")
    with pytest.raises(DomainError):
        services.alert_comment_bulk_add(actor=rep1, versions=_versions(alerts), body="   ")


def test_bulk_reassign_is_a_managers_act_to_their_team(
    client: Any, manager: Any, rep1: Any, rep2: Any, outsider: Any, admin_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    alerts = _late_invoices(CustomerFactory(owner=rep1), RiskRuleFactory(), 3)
    with pytest.raises(NotPermitted):
        services.risk_alert_bulk_assign(actor=rep1, versions=_versions(alerts), assignee=rep1)
    with pytest.raises(DomainError):  # not in the manager's team
        services.risk_alert_bulk_assign(actor=manager, versions=_versions(alerts), assignee=outsider)
    with pytest.raises(DomainError):  # in the team, but does not see rep1's customer
        services.risk_alert_bulk_assign(actor=manager, versions=_versions(alerts), assignee=rep2)
    assert set(RiskAlert.objects.values_list("assignee", flat=True)) == {rep1.pk}
    manager.email = "manager@example.com"
    manager.save()
    # Handed to the customer's new owner: the customer first, then its alerts.
    alerts[0].customer.owner = rep2
    alerts[0].customer.save()
    client.force_login(manager)
    ticked = ",".join(f"{a.pk}:{a.version}" for a in alerts)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/alerts/bulk/", {"alerts": ticked, "action": "assign", "assignee": rep2.pk})
    assert set(RiskAlert.objects.values_list("assignee", flat=True)) == {rep2.pk}
    assert _events(alerts) == 3
    told = Notification.objects.get(user=rep2)
    assert "3" in told.title
    # An admin may hand alerts to anyone who sees the customer.
    fresh = {a.pk: a.version for a in RiskAlert.objects.all()}
    assert services.risk_alert_bulk_assign(actor=admin_user, versions=fresh, assignee=manager) == 3


def test_bulk_with_nothing_ticked_or_no_action_is_refused(client: Any, rep1: Any) -> None:
    client.force_login(rep1)
    response = client.post("/alerts/bulk/", {"action": "acknowledged"}, follow=True)
    assert response.status_code == 200 and response.context["messages"]
    assert client.post("/alerts/bulk/", {"action": "assign", "alerts": "1:1"}).status_code == 403


# ------------------------------------------------------------------ landing view
def test_managers_land_on_their_teams_alerts(client: Any, manager: Any, rep1: Any, outsider: Any, admin_user: Any):
    rule = RiskRuleFactory()
    _late_invoices(CustomerFactory(owner=rep1), rule, 2)
    _late_invoices(CustomerFactory(owner=outsider), rule, 1)
    client.force_login(manager)
    landing = client.get("/alerts/")
    assert landing.context["who"] == "team" and len(landing.context["groups"]) == 1  # not the other team's
    assert client.get("/alerts/?who=mine").context["groups"] == []  # an explicit choice still holds
    client.force_login(admin_user)
    assert client.get("/alerts/").context["who"] == "all" and len(client.get("/alerts/").context["groups"]) == 2
    client.force_login(rep1)
    assert client.get("/alerts/").context["who"] == "mine" and len(client.get("/alerts/").context["groups"]) == 1


# ------------------------------------------------------------------ My day and the 360
def test_my_day_and_the_360_page_group_the_alerts(client: Any, rep1: Any) -> None:
    rule = RiskRuleFactory()
    customer = CustomerFactory(owner=rep1)
    five = _late_invoices(customer, rule, 5)
    client.force_login(rep1)
    day = client.get("/")
    groups = day.context["day"].alerts
    assert len(groups) == 1 and groups[0].count == 5
    assert 'data-testid="my-alerts"' in day.content.decode()
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="customer-alert-groups"' in page and page.count('class="alert-group"') == 1
    assert all(f'data-testid="alert-{a.pk}"' in page for a in five)
    # Acknowledging the group from the 360 page comes back to it.
    value = ",".join(f"{a.pk}:{a.version}" for a in five)
    response = client.post(
        "/alerts/groups/status/", {"alerts": value, "status": "acknowledged", "next": f"/customers/{customer.pk}/"}
    )
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert set(RiskAlert.objects.values_list("status", flat=True)) == {"acknowledged"}
    assert (
        client.post("/alerts/groups/status/", {"alerts": "", "next": "https://evil.example.com/"})["Location"]
        == "/alerts/"
    )


# ------------------------------------------------------------------ digest
@pytest.mark.parametrize(
    ("language", "words"), [("en", ("open alerts", "act by")), ("zh-hans", ("条待处理预警", "处理期限"))]
)
def test_the_digest_is_a_list_grouped_by_customer(
    rep1: Any, language: str, words: tuple[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    rep1.email = "rep1@example.com"
    rep1.save()
    rule, silent = RiskRuleFactory(), RiskRuleFactory(kind="inactivity", name_en="Buying rhythm")
    late = CustomerFactory(owner=rep1, name="迟付款有限公司")
    _late_invoices(late, rule, 3)
    RiskAlertFactory(customer=late, rule=silent, subject="", severity="medium", assignee=rep1)
    calm = CustomerFactory(owner=rep1, name="只有一条预警公司")
    RiskAlertFactory(customer=calm, rule=silent, subject="", severity="low", assignee=rep1)
    with override_settings(LANGUAGE_CODE=language), django_capture_on_commit_callbacks(execute=True):
        assert send_digests() == 1
    body = mail.outbox[0].body
    lines = body.splitlines()
    late_line = next(i for i, line in enumerate(lines) if "迟付款有限公司" in line)
    assert words[0] in lines[late_line] and "4" in lines[late_line]
    # The customer's rules beneath it, the worst first: the three invoices as one line.
    assert "Overdue payment × 3" in lines[late_line + 1] and words[1] in lines[late_line + 1]
    assert "Buying rhythm × 1" in lines[late_line + 2]
    assert lines.index(next(line for line in lines if "只有一条预警公司" in line)) > late_line + 2
    assert Notification.objects.get(user=rep1).body.count("■") == 2


def test_my_day_and_the_360_page_cost_the_same_queries_for_many_groups(
    client: Any, rep1: Any, django_assert_max_num_queries: Any
) -> None:
    customer = CustomerFactory(owner=rep1)
    _late_invoices(customer, RiskRuleFactory(), 2)
    client.force_login(rep1)
    with CaptureQueriesContext(connection) as day:
        client.get("/")
    with CaptureQueriesContext(connection) as page:
        client.get(f"/customers/{customer.pk}/")
    for _ in range(6):
        rule = RiskRuleFactory()
        _late_invoices(customer, rule, 3)
        _late_invoices(CustomerFactory(owner=rep1), rule, 2)
    with django_assert_max_num_queries(len(day.captured_queries)):
        assert len(client.get("/").context["day"].alerts) == 13
    with django_assert_max_num_queries(len(page.captured_queries)):
        client.get(f"/customers/{customer.pk}/")


def test_an_inbox_of_many_people_hands_alerts_on_by_typed_user_name(
    client: Any, manager: Any, rep1: Any, monkeypatch: Any
) -> None:
    """Over the picker's limit the bulk reassignment takes a user name, with the first
    people suggested, instead of a select of everyone the user may hand alerts to."""
    from crm.accounts import selectors as people

    alerts = _late_invoices(CustomerFactory(owner=rep1), RiskRuleFactory(), 2)
    client.force_login(manager)
    assert not client.get("/alerts/").context["assignees"].typed
    monkeypatch.setattr(people, "PICKER_LIMIT", 1)
    page = client.get("/alerts/")
    assert page.context["assignees"].typed and 'data-testid="bulk-assignee-name"' in page.content.decode()
    assert len(page.context["assignees"].people) == 1
    ticked = ",".join(f"{a.pk}:{a.version}" for a in alerts)
    client.post("/alerts/bulk/", {"alerts": ticked, "action": "assign", "assignee_name": manager.username})
    assert set(RiskAlert.objects.values_list("assignee", flat=True)) == {manager.pk}
