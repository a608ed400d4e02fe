"""Risk rules and risk settings in the admin console: every parameter of a rule's kind,
its severity levels, tiers and playbook; the preview of what a rule would do; and the
scan time and deadlines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.audit.models import AuditEvent
from risk import services
from risk.models import RiskAlert, RiskRule, RiskSettings
from tests.factories import CustomerFactory, RiskAlertFactory, TransactionFactory, tier

pytestmark = pytest.mark.django_db

RULE = "overdue-payment-30"


@pytest.fixture
def admin_client(client: Any, admin_user: Any) -> Any:
    client.force_login(admin_user)
    return client


def _form_data(rule: RiskRule, **changes: Any) -> dict[str, Any]:
    """What the edit page posts for ``rule`` as it stands, with ``changes``."""
    data: dict[str, Any] = {
        "version": rule.version, "name_zh": rule.name_zh, "name_en": rule.name_en, "code": rule.code,
        "severity": rule.severity, "playbook_zh": rule.playbook_zh, "playbook_en": rule.playbook_en,
        "tiers": [t.pk for t in rule.tiers.all()],
    }  # fmt: skip
    if rule.enabled:
        data["enabled"] = "on"
    for name, value in (rule.params or {}).items():
        if isinstance(value, dict):
            data.update({f"param_{name}_{code}": amount for code, amount in value.items()})
        else:
            data[f"param_{name}"] = value
    data.update({f"level_{severity}": start for start, severity in rule.severity_levels or []})
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def _owed(customer: Any, days: int, amount: str = "5000") -> Any:
    today = timezone.localdate()
    return TransactionFactory(
        customer=customer, amount=Decimal(amount), paid_amount=Decimal("0"), status="pending",
        order_date=today - dt.timedelta(days=days + 30), due_date=today - dt.timedelta(days=days),
    )  # fmt: skip


RISK_PAGES = ["/console/risk-rules/", "/console/risk-rules/new/inactivity/", "/console/risk-settings/"]


@pytest.mark.parametrize("url", RISK_PAGES)
def test_only_admins_open_the_risk_pages(client: Any, rep1: Any, manager: Any, admin_user: Any, url: str) -> None:
    for user in (rep1, manager):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_the_list_shows_every_rule_with_its_open_alerts_in_constant_queries(admin_client: Any, rep1: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    customer = CustomerFactory(owner=rep1)
    RiskAlertFactory(customer=customer, rule=rule, subject="a")
    RiskAlertFactory(customer=customer, rule=rule, subject="b", status="resolved")
    with CaptureQueriesContext(connection) as few:
        page = admin_client.get("/console/risk-rules/")
    text = page.content.decode()
    for shipped in RiskRule.objects.all():
        assert shipped.name in text and f"/console/risk-rules/{shipped.pk}/" in text
    assert f'?who=team&amp;rule={RULE}">1</a>' in text  # the open one only
    for code in ("cancellations-90", "satisfaction-drop", "inactivity", "complaint-spike"):
        RiskRule.objects.filter(code=code).update(name_zh=f"{code} renamed")
    extra = RiskRule.objects.create(code="extra", name="Extra", kind="complaint_spike")
    extra.tiers.set([tier("gold")])
    with CaptureQueriesContext(connection) as more:
        admin_client.get("/console/risk-rules/")
    assert len(more) == len(few)


def test_an_admin_changes_a_rules_parameters_levels_and_tiers(admin_client: Any, admin_user: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    page = admin_client.get(f"/console/risk-rules/{rule.pk}/").content.decode()
    assert 'name="param_days_overdue"' in page and 'name="param_min_amount_by_currency_USD"' in page
    assert 'name="level_critical" value="91' in page  # the rule's levels as they stand
    data = _form_data(
        rule, param_days_overdue=5, param_min_amount_by_currency_USD="200", param_min_amount_by_currency_JPY="",
        level_low=None, level_medium="5", tiers=[tier("gold").pk], playbook_en="Call the buyer today.",
    )  # fmt: skip
    data.pop("level_low", None)
    answer = admin_client.post(f"/console/risk-rules/{rule.pk}/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.params["days_overdue"] == 5
    assert rule.params["min_amount_by_currency"] == {"USD": 200, "EUR": 130, "HKD": 1100}  # JPY emptied
    assert isinstance(rule.params["days_overdue"], int)
    assert [level[1] for level in rule.severity_levels] == ["medium", "high", "critical"]
    assert rule.severity_levels[0] == [5, "medium"]
    assert list(rule.tiers.values_list("code", flat=True)) == ["gold"] and rule.playbook_en == "Call the buyer today."
    assert rule.code == RULE  # the code cannot change
    event = AuditEvent.objects.filter(resource="risk.riskrule", object_id=str(rule.pk)).latest("id")
    assert event.actor == admin_user and "params" in event.changes


def test_bad_parameters_are_refused_at_the_field_and_nothing_is_written(admin_client: Any) -> None:
    rule = RiskRule.objects.get(code="cancellations-90")
    before = (rule.version, rule.params, rule.severity_levels)
    for changes, field in (
        ({"param_rate": "1.5"}, "param_rate"),  # a share is at most 1
        ({"param_window_days": "7.5"}, "param_window_days"),  # whole days
        ({"param_count": "-1"}, "param_count"),
        ({"level_medium": "4", "level_high": "3"}, "level_high"),  # levels must rise
        ({"name_zh": "", "name_en": " "}, "name_zh"),  # a name in one language at least
    ):
        answer = admin_client.post(f"/console/risk-rules/{rule.pk}/", _form_data(rule, **changes))
        assert answer.status_code == 422, changes
        assert field in answer.context["form"].errors, (changes, answer.context["form"].errors)
    rule.refresh_from_db()
    assert (rule.version, rule.params, rule.severity_levels) == before


def test_a_stale_edit_is_a_conflict(admin_client: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    stale = _form_data(rule, name_zh="Mine")
    services.risk_rule_update(actor=None, instance=rule, data={"name_zh": "Theirs"}, expected_version=rule.version)
    answer = admin_client.post(f"/console/risk-rules/{rule.pk}/", stale)
    assert answer.status_code == 409
    assert RiskRule.objects.get(pk=rule.pk).name_zh == "Theirs"


def test_an_admin_adds_a_rule_of_any_kind(admin_client: Any) -> None:
    assert admin_client.get("/console/risk-rules/new/no-such-kind/").status_code == 404
    answer = admin_client.post(
        "/console/risk-rules/new/complaint_spike/",
        {"name_en": "Complaints, key accounts", "code": "complaints-key", "severity": "high", "enabled": "on",
         "param_count": "2", "param_window_days": "14", "level_critical": "5", "tiers": [tier("platinum").pk]},
    )  # fmt: skip
    assert answer.status_code == 302
    rule = RiskRule.objects.get(code="complaints-key")
    assert rule.kind == "complaint_spike" and rule.params == {"count": 2, "window_days": 14}
    assert rule.severity_levels == [[5, "critical"]] and rule.enabled
    again = admin_client.post(
        "/console/risk-rules/new/complaint_spike/", {"name_en": "Again", "code": "complaints-key"}
    )
    assert again.status_code == 422 and "code" in again.context["form"].errors


def test_a_rule_with_alerts_keeps_its_kind(rep1: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    RiskAlertFactory(customer=CustomerFactory(owner=rep1), rule=rule)
    with pytest.raises(services.DomainError) as refused:
        services.risk_rule_update(
            actor=None, instance=rule, data={"kind": "inactivity", "params": {}}, expected_version=None
        )
    assert "kind" in refused.value.field_errors


def test_the_preview_shows_what_the_rule_would_do_and_writes_nothing(admin_client: Any, rep1: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    customer = CustomerFactory(owner=rep1, name="逾期样本公司")
    for days in (3, 40, 100):
        _owed(customer, days)
    services.risk_scan_now(actor=None, trigger="command")  # three open alerts: low, medium, critical
    assert RiskAlert.objects.filter(rule=rule, status="open").count() == 3
    alerts_before, version_before = RiskAlert.objects.count(), rule.version
    events_before = AuditEvent.objects.count()
    rule.refresh_from_db()
    # From 30 days only, and high from 35: the 3-day alert would resolve, the 40-day one escalate.
    answer = admin_client.post(
        f"/console/risk-rules/{rule.pk}/", _form_data(rule, param_days_overdue=30, level_high="35", preview="1")
    )
    assert answer.status_code == 200
    preview = answer.context["preview"]
    assert preview.found == 2 and preview.customers == 1
    assert (preview.raised, preview.reseverity, preview.resolved) == (0, 1, 1)
    assert dict(preview.by_severity) == {"low": 0, "medium": 0, "high": 1, "critical": 1}
    # A threshold that finds a new order: it is named among the samples.
    _owed(customer, 200, amount="90000")
    answer = admin_client.post(f"/console/risk-rules/{rule.pk}/", _form_data(rule, preview="1"))
    assert answer.context["preview"].raised == 1
    assert "逾期样本公司" in answer.content.decode()
    off = admin_client.post(f"/console/risk-rules/{rule.pk}/", _form_data(rule, enabled=None, preview="1"))
    assert off.context["preview"].resolved == 3
    assert RiskAlert.objects.count() == alerts_before and AuditEvent.objects.count() == events_before
    assert RiskRule.objects.get(pk=rule.pk).version == version_before


def test_the_preview_of_a_new_rule_with_tiers(admin_client: Any, rep1: Any) -> None:
    gold = CustomerFactory(owner=rep1, tier=tier("gold"))
    bronze = CustomerFactory(owner=rep1, tier=tier("bronze"))
    for customer in (gold, bronze):
        _owed(customer, 10)
    answer = admin_client.post(
        "/console/risk-rules/new/overdue_payment/",
        {"name_en": "Gold overdue", "code": "gold-overdue", "severity": "high", "enabled": "on",
         "param_days_overdue": "5", "tiers": [tier("gold").pk], "preview": "1"},
    )  # fmt: skip
    assert answer.status_code == 200
    preview = answer.context["preview"]
    assert preview.found == 1 and preview.raised == 1 and [s["customer_id"] for s in preview.samples] == [gold.pk]
    assert not RiskRule.objects.filter(code="gold-overdue").exists()


def test_an_admin_sets_the_scan_time_and_deadlines(admin_client: Any, admin_user: Any) -> None:
    settings_row = RiskSettings.current()
    page = admin_client.get("/console/risk-settings/").content.decode()
    assert 'name="sla_critical" value="4' in page
    data = {"version": settings_row.version, "scan_time": "07:15", "sla_critical": "2", "sla_high": "12",
            "sla_medium": "48", "sla_low": "120.5"}  # fmt: skip
    assert admin_client.post("/console/risk-settings/", data).status_code == 302
    settings_row.refresh_from_db()
    assert settings_row.scan_time == dt.time(7, 15) and not settings_row.digest_enabled
    assert settings_row.sla_hours == {"critical": 2, "high": 12, "medium": 48, "low": 120.5}
    assert settings_row.sla_for("low") == dt.timedelta(hours=120.5)
    assert AuditEvent.objects.filter(resource="risk.risksettings", actor=admin_user).exists()
    stale = admin_client.post("/console/risk-settings/", {**data, "scan_time": "08:00"})
    assert stale.status_code == 409
    bad = admin_client.post("/console/risk-settings/", {**data, "version": settings_row.version, "sla_high": "0"})
    assert bad.status_code == 422 and "sla_high" in bad.context["form"].errors
    with pytest.raises(services.DomainError):
        services.risk_settings_update(actor=None, data={"sla_hours": {"high": 3}}, expected_version=None)
    assert RiskSettings.current().scan_time == dt.time(7, 15)
