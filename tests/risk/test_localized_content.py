"""A risk rule's name and playbook are kept per language: every page, e-mail and API
answer shows the reader's language, falling back to the other when it is empty, and the
console edits both side by side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation

from crm.accounts.models import Notification
from crm.core.localized import localized, split_bilingual
from risk import services
from risk.choices import ScanTrigger
from risk.models import RiskAlert, RiskRule
from risk.notifications import notify_reassigned
from tests.api_contract import detail_url
from tests.factories import CustomerFactory, TransactionFactory, restore_shipped_rules

pytestmark = pytest.mark.django_db
RULE = "overdue-payment-30"
RULES = "/api/v1/risk-rules/"
ALERTS = "/api/v1/risk-alerts/"


def _in(client: Any, language: str) -> Any:
    """The client as a reader of ``language`` (the language switch's cookie)."""
    client.cookies["django_language"] = language
    return client


def _overdue_alert(owner: Any, days: int = 70) -> RiskAlert:
    customer = CustomerFactory(owner=owner)
    today = timezone.localdate()
    TransactionFactory(
        customer=customer, amount=Decimal("12000"), order_date=today - dt.timedelta(days=days + 30),
        due_date=today - dt.timedelta(days=days), status="pending",
    )  # fmt: skip
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    return RiskAlert.objects.select_related("rule").get(customer=customer, rule__code=RULE)


# ------------------------------------------------------------------ the stored content
def test_the_shipped_rules_are_split_into_their_languages() -> None:
    rule = RiskRule.objects.get(code=RULE)
    assert (rule.name_zh, rule.name_en) == ("回款逾期", "Overdue payment")
    assert rule.playbook_zh.startswith("1. 当天致电") and "Call" not in rule.playbook_zh
    assert rule.playbook_en.startswith("1. Call the customer's finance contact") and "致电" not in rule.playbook_en
    for shipped in RiskRule.objects.all():
        assert shipped.name_zh and shipped.name_en and " / " not in shipped.name_zh + shipped.name_en
        assert shipped.playbook_zh and shipped.playbook_en


def test_the_shipped_rules_restored_for_tests_are_those_the_migrations_leave() -> None:
    shown = (
        "code",
        "name_zh",
        "name_en",
        "playbook_zh",
        "playbook_en",
        "kind",
        "severity",
        "params",
        "severity_levels",
    )
    migrated = list(RiskRule.objects.order_by("code").values(*shown))
    RiskRule.objects.update(name_zh="x", name_en="", playbook_zh="", playbook_en="", params={})
    restore_shipped_rules()
    assert list(RiskRule.objects.order_by("code").values(*shown)) == migrated


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("回款逾期 / Overdue payment", ("回款逾期", "Overdue payment")),
        ("会员折扣 3% / 3% member discount", ("会员折扣 3%", "3% member discount")),
        (
            "1. 当天致电；2. 暂停赊销。\n1. Call today; 2. pause credit.",
            ("1. 当天致电；2. 暂停赊销。", "1. Call today; 2. pause credit."),
        ),
        ("只有中文", ("只有中文", "")),
        ("English only / with a slash", ("", "English only / with a slash")),
        ("", ("", "")),
    ],
)
def test_text_written_in_both_languages_at_once_splits_into_each(text: str, parts: tuple[str, str]) -> None:
    assert split_bilingual(text) == parts


def test_the_name_reads_in_the_active_language_and_falls_back_to_the_other() -> None:
    rule = RiskRule(name_zh="回款逾期", name_en="", playbook_zh="", playbook_en="Call today.")
    with translation.override("en"):
        assert rule.name == "回款逾期" and rule.playbook == "Call today."
        rule.name = "Overdue"  # writing the display value sets the active language's column
        assert (rule.name_zh, rule.name_en, str(rule)) == ("回款逾期", "Overdue", "Overdue")
    with translation.override("zh-hans"):
        assert rule.name == "回款逾期" and rule.playbook == "Call today."
        assert localized(rule, "name", "en") == "Overdue"


# ------------------------------------------------------------------ pages
def test_the_inbox_and_the_alert_show_the_readers_language(client: Any, rep1: Any) -> None:
    alert = _overdue_alert(rep1)
    client.force_login(rep1)
    chinese = _in(client, "zh-hans").get("/alerts/").content.decode()
    assert "回款逾期" in chinese and "Overdue payment" not in chinese
    english = _in(client, "en").get("/alerts/").content.decode()
    assert "Overdue payment" in english and "回款逾期" not in english
    detail = _in(client, "en").get(f"/alerts/{alert.pk}/")
    assert detail.context["shown"]["title"] == "Overdue payment"
    assert detail.context["shown"]["recommended_action"].startswith("1. Call the customer's finance contact")
    detail = _in(client, "zh-hans").get(f"/alerts/{alert.pk}/")
    assert detail.context["shown"]["recommended_action"].startswith("1. 当天致电")
    # The inbox's search finds the alert by its rule's name in either language.
    for query in ("回款", "overdue pay"):
        found = _in(client, "en").get("/alerts/", {"q": query}).context["items"]
        assert [row[0] for row in found] == [alert], query


def test_an_empty_language_shows_the_other_on_the_pages(client: Any, rep1: Any) -> None:
    alert = _overdue_alert(rep1)
    RiskRule.objects.filter(code=RULE).update(name_en="", playbook_zh="")
    client.force_login(rep1)
    english = _in(client, "en").get(f"/alerts/{alert.pk}/")
    assert english.context["shown"]["title"] == "回款逾期"
    chinese = _in(client, "zh-hans").get(f"/alerts/{alert.pk}/")
    assert chinese.context["shown"]["recommended_action"].startswith("1. Call the customer's finance contact")
    assert "回款逾期" in _in(client, "en").get("/").content.decode()  # My day lists the alert


def test_an_alert_raised_with_its_own_title_keeps_it(client: Any, manager: Any, rep1: Any) -> None:
    rule = RiskRule.objects.get(code="complaint-spike")
    customer = CustomerFactory(owner=rep1)
    own = services.risk_alert_create(
        actor=manager, data={"customer": customer, "rule": rule, "title": "大客户连续投诉", "subject": "a"}
    )
    plain = services.risk_alert_create(actor=manager, data={"customer": customer, "rule": rule, "subject": "b"})
    client.force_login(rep1)
    assert _in(client, "en").get(f"/alerts/{own.pk}/").context["shown"]["title"] == "大客户连续投诉"
    shown = _in(client, "en").get(f"/alerts/{plain.pk}/").context["shown"]
    assert shown["title"] == "Complaint spike" and shown["recommended_action"].startswith("1. Within 24 hours")


def test_the_customer_timeline_names_the_alert_in_the_readers_language(api: Any, rep1: Any) -> None:
    alert = _overdue_alert(rep1)
    url = f"/api/v1/customers/{alert.customer_id}/timeline/"
    entries = api(rep1).get(url, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert "Overdue payment" in [entry["title"] for entry in entries if entry["kind"] == "risk_alert"]
    entries = api(rep1).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert "回款逾期" in [entry["title"] for entry in entries if entry["kind"] == "risk_alert"]


# ------------------------------------------------------------------ e-mails
def test_the_e_mails_name_the_rule_in_their_language_with_the_fallback(
    rep1: Any, manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep1.email, manager.email = "rep1@example.com", "manager@example.com"
    rep1.save()
    manager.save()
    with django_capture_on_commit_callbacks(execute=True):
        alert = _overdue_alert(rep1)
    assert len(mail.outbox) == 1
    assert "回款逾期" in mail.outbox[0].body and "Overdue payment" not in mail.outbox[0].body  # zh by default
    RiskRule.objects.filter(code=RULE).update(name_zh="")
    RiskAlert.objects.filter(pk=alert.pk).update(assignee=manager, version=alert.version + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_reassigned(alert_id=alert.pk, actor_id=None)
    assert "Overdue payment" in mail.outbox[-1].body
    assert Notification.objects.get(user=manager).body == "Overdue payment"


# ------------------------------------------------------------------ the API
def test_the_api_gives_both_languages_and_the_readers_one(api: Any, admin_user: Any, rep1: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    english = api(admin_user).get(detail_url(RULES, rule.pk), HTTP_ACCEPT_LANGUAGE="en").json()
    assert (english["name"], english["name_zh"], english["name_en"]) == (
        "Overdue payment",
        "回款逾期",
        "Overdue payment",
    )
    assert english["playbook"] == english["playbook_en"] and english["playbook_zh"].startswith("1. 当天致电")
    chinese = api(admin_user).get(detail_url(RULES, rule.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["name"] == "回款逾期" and chinese["playbook"] == chinese["playbook_zh"]

    alert = _overdue_alert(rep1)
    row = api(rep1).get(detail_url(ALERTS, alert.pk), HTTP_ACCEPT_LANGUAGE="en").json()
    assert (row["title"], row["rule_name"]) == ("Overdue payment", "Overdue payment")
    assert row["recommended_action"].startswith("1. Call")
    row = api(rep1).get(detail_url(ALERTS, alert.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (row["title"], row["rule_name"]) == ("回款逾期", "回款逾期")
    found = api(rep1).get(ALERTS, {"search": "Overdue payment"}, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert [item["id"] for item in found] == [alert.pk]


def test_the_api_edits_each_language_and_falls_back(api: Any, admin_user: Any) -> None:
    rule = RiskRule.objects.get(code=RULE)
    url = detail_url(RULES, rule.pk)
    answer = api(admin_user).patch(
        url, {"name_zh": "逾期未付", "name_en": "", "playbook_en": "Phone them."}, format="json",
        HTTP_IF_MATCH=f'"{rule.version}"', HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert answer.status_code == 200, answer.json()
    assert answer.json()["name"] == "逾期未付"  # English left empty: the Chinese shows
    rule.refresh_from_db()
    assert (rule.name_zh, rule.name_en, rule.playbook_en) == ("逾期未付", "", "Phone them.")
    # Writing the display value sets the request's language only.
    answer = api(admin_user).patch(
        url, {"name": "Late payment"}, format="json", HTTP_IF_MATCH=f'"{rule.version}"', HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 200, answer.json()
    rule.refresh_from_db()
    assert (rule.name_zh, rule.name_en) == ("逾期未付", "Late payment")
    # A rule needs a name in one language at least.
    refused = api(admin_user).patch(
        url, {"name_zh": "", "name_en": ""}, format="json", HTTP_IF_MATCH=f'"{rule.version}"', HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 400
    rule.refresh_from_db()
    assert rule.name_zh == "逾期未付"


# ------------------------------------------------------------------ the console
def test_the_console_edits_both_languages_side_by_side(client: Any, admin_user: Any) -> None:
    rule = RiskRule.objects.get(code="inactivity")
    client.force_login(admin_user)
    page = _in(client, "en").get(f"/console/risk-rules/{rule.pk}/").content.decode()
    for name in ("name_zh", "name_en", "playbook_zh", "playbook_en"):
        assert f'name="{name}"' in page
    data = {
        "version": rule.version, "code": rule.code, "severity": rule.severity, "enabled": "on",
        "name_zh": "采购中断", "name_en": "", "playbook_zh": "电话回访。", "playbook_en": "Call them back.",
    }  # fmt: skip
    answer = client.post(f"/console/risk-rules/{rule.pk}/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    rule.refresh_from_db()
    assert (rule.name_zh, rule.name_en, rule.playbook_zh, rule.playbook_en) == (
        "采购中断", "", "电话回访。", "Call them back."
    )  # fmt: skip
    listed = _in(client, "en").get("/console/risk-rules/").content.decode()
    assert "采购中断" in listed  # no English name: the Chinese one
    nameless = client.post(f"/console/risk-rules/{rule.pk}/", {**data, "version": rule.version, "name_zh": ""})
    assert nameless.status_code == 422 and "name_zh" in nameless.context["form"].errors
    assert RiskRule.objects.get(pk=rule.pk).name_zh == "采购中断"


def test_the_rule_filters_of_the_inbox_and_scans_name_rules_in_the_readers_language(client: Any, manager: Any) -> None:
    client.force_login(manager)
    inbox = _in(client, "en").get("/alerts/?who=team").context["rules"]
    assert (RULE, "Overdue payment") in inbox
    inbox = _in(client, "zh-hans").get("/alerts/?who=team").context["rules"]
    assert (RULE, "回款逾期") in inbox
    services.risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    scans = _in(client, "en").get("/alerts/scans/").content.decode()
    assert "Overdue payment:" in scans and "回款逾期" not in scans
