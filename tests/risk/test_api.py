"""Risk rules and alerts: the shared contract plus parameters and the alert workflow."""

from __future__ import annotations

from typing import Any

import pytest

from risk.models import RiskAlert, RiskRule
from tests.api_contract import ResourceContract, detail_url
from tests.factories import CustomerFactory, RiskAlertFactory, RiskRuleFactory

pytestmark = pytest.mark.django_db
ALERTS = "/api/v1/risk-alerts/"


class TestRiskRuleContract(ResourceContract):
    url = "/api/v1/risk-rules/"
    model = RiskRule
    company_wide = True
    update_payload = {"severity": "critical"}
    invalid_payloads = [
        ({"kind": "astrology"}, "kind"),
        ({"params": {"days_overdue": -1}}, "params"),
        ({"params": {"moon_phase": 3}}, "params"),
        ({"params": [1, 2]}, "params"),
        ({"params": {"min_amount_by_currency": {"USD": -5}}}, "params"),
        ({"params": {"days_overdue": {"USD": 5}}}, "params"),
        ({"severity_levels": [[31, "apocalyptic"]]}, "severity_levels"),
        ({"severity_levels": [[-1, "low"]]}, "severity_levels"),
        ({"severity_levels": "high"}, "severity_levels"),
        ({"code": ""}, "code"),
    ]

    def make(self, owner: Any) -> RiskRule:
        return RiskRuleFactory()

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {
            "code": "overdue-15",
            "name": "逾期15天",
            "kind": "overdue_payment",
            "severity": "medium",
            "params": {"days_overdue": 15, "min_amount_by_currency": {"USD": 100}},
            "severity_levels": [[15, "medium"], [45, "high"]],
            "playbook": "电话提醒付款",
        }


class TestRiskAlertContract(ResourceContract):
    url = ALERTS
    model = RiskAlert
    update_payload = {"status": "acknowledged"}
    invalid_payloads = [
        ({"severity": "apocalyptic"}, "severity"),
        ({"rule": 999999}, "rule"),
        ({"status": "dismissed"}, "resolution_note"),
    ]

    def make(self, owner: Any) -> RiskAlert:
        return RiskAlertFactory(customer=CustomerFactory(owner=owner))

    def valid_payload(self, owner: Any) -> dict[str, Any]:
        return {"customer": CustomerFactory(owner=owner).pk, "rule": RiskRuleFactory().pk, "subject": "SO-1"}


def test_default_rules_ship_one_per_kind(api: Any, rep1: Any) -> None:
    rows = api(rep1).get("/api/v1/risk-rules/").json()["results"]
    assert {r["kind"] for r in rows} == {
        "overdue_payment",
        "cancellations",
        "satisfaction_drop",
        "inactivity",
        "complaint_spike",
    }
    assert all(r["playbook"] for r in rows)


def test_alert_defaults_come_from_the_rule_and_customer(api: Any, manager: Any, rep1: Any) -> None:
    rule = RiskRuleFactory(severity="critical", playbook="立即上门")
    customer = CustomerFactory(owner=rep1)
    body = api(manager).post(ALERTS, {"customer": customer.pk, "rule": rule.pk}, format="json").json()
    assert (body["severity"], body["recommended_action"], body["assignee"]) == ("critical", "立即上门", rep1.pk)
    assert body["title"] == rule.name and body["status"] == "open"


def test_workflow_stamps_and_closed_alerts_stay_closed(api: Any, rep1: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1))
    client = api(rep1)
    url = detail_url(ALERTS, alert.pk)
    acked = client.patch(url, {"status": "acknowledged"}, format="json", HTTP_IF_MATCH='"1"').json()
    assert acked["acknowledged_at"] and acked["resolved_at"] is None
    done = client.patch(url, {"status": "resolved", "resolution_note": "已回款"}, format="json", HTTP_IF_MATCH='"2"')
    assert done.status_code == 200 and done.json()["resolved_at"]
    reopen = client.patch(url, {"status": "open"}, format="json", HTTP_IF_MATCH='"3"')
    assert reopen.status_code == 400 and "status" in reopen.json()["fields"]


def test_dismissing_needs_a_note(api: Any, rep1: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1))
    client = api(rep1)
    url = detail_url(ALERTS, alert.pk)
    refused = client.patch(url, {"status": "dismissed"}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400 and "resolution_note" in refused.json()["fields"]
    alert.refresh_from_db()
    assert alert.status == "open"
    ok = client.patch(
        url, {"status": "dismissed", "resolution_note": "客户已提前告知延期"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert ok.status_code == 200


def test_assignee_must_see_the_customer(api: Any, manager: Any, rep1: Any, rep2: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1))
    client = api(manager)
    url = detail_url(ALERTS, alert.pk)
    refused = client.patch(url, {"assignee": rep2.pk}, format="json", HTTP_IF_MATCH='"1"')
    assert refused.status_code == 400 and "assignee" in refused.json()["fields"]
    assert client.patch(url, {"assignee": manager.pk}, format="json", HTTP_IF_MATCH='"1"').status_code == 200


def test_one_open_alert_per_customer_rule_and_subject(api: Any, manager: Any, rep1: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1), subject="SO-7")
    payload = {"customer": alert.customer_id, "rule": alert.rule_id, "subject": "SO-7"}
    client = api(manager)
    assert client.post(ALERTS, payload, format="json").status_code == 400
    assert client.post(ALERTS, {**payload, "subject": "SO-8"}, format="json").status_code == 201
    assert RiskAlert.objects.count() == 2


def test_filters(api: Any, rep1: Any) -> None:
    customer = CustomerFactory(owner=rep1)
    open_high = RiskAlertFactory(customer=customer, severity="high")
    RiskAlertFactory(customer=customer, severity="low", status="resolved", resolution_note="ok")
    client = api(rep1)
    assert [r["id"] for r in client.get(ALERTS, {"open": "true"}).json()["results"]] == [open_high.pk]
    assert client.get(ALERTS, {"severity": ["low", "medium"]}).json()["count"] == 1


def test_comments_through_the_api(api: Any, rep1: Any, outsider: Any) -> None:
    alert = RiskAlertFactory(customer=CustomerFactory(owner=rep1))
    url = "/api/v1/alert-comments/"
    made = api(rep1).post(url, {"alert": alert.pk, "body": "已联系财务"}, format="json")
    assert made.status_code == 201 and made.json()["author"] == rep1.pk
    assert api(rep1).post(url, {"alert": alert.pk, "body": "  "}, format="json").status_code == 400
    assert api(outsider).post(url, {"alert": alert.pk, "body": "x"}, format="json").status_code == 400
    assert api(outsider).get(url).json()["results"] == []
    listed = api(rep1).get(f"{url}?alert={alert.pk}").json()["results"]
    assert [row["body"] for row in listed] == ["已联系财务"]
    assert api(rep1).patch(f"{url}{listed[0]['id']}/", {"body": "改"}, format="json").status_code == 405


def test_scans_through_the_api(api: Any, rep1: Any, manager: Any) -> None:
    from risk.models import RiskScan

    assert api(rep1).post("/api/v1/risk-scans/start/").status_code == 403
    started = api(manager).post("/api/v1/risk-scans/start/")
    assert started.status_code == 202 and started.json()["state"] == "queued"
    assert api(manager).post("/api/v1/risk-scans/start/").json()["id"] == started.json()["id"]
    assert [row["id"] for row in api(rep1).get("/api/v1/risk-scans/").json()["results"]] == [started.json()["id"]]
    assert RiskScan.objects.count() == 1
