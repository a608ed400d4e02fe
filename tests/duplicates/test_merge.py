"""Merging two customers and undoing it: every kind of record moves, the survivor takes
the values chosen, one audit event keeps the other customer whole, the engines' derived
data stays right, and an unmerge puts everything back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from campaigns.models import Participation
from crm.access.choices import ChangeStatus
from crm.access.models import ChangeRequest
from crm.audit.models import AuditEvent
from customers.models import Activity, Contact, Customer, ServiceNeed
from duplicates import merging
from duplicates.models import DuplicateCandidate
from feedback.models import Feedback, SatisfactionResponse, ServiceRecord
from risk import engine as risk_engine
from risk.choices import ScanTrigger
from risk.models import RiskAlert, RiskRule
from risk.services import risk_scan_now
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    ContactFactory,
    FeedbackFactory,
    ParticipationFactory,
    RiskAlertFactory,
    RiskRuleFactory,
    SatisfactionResponseFactory,
    ServiceNeedFactory,
    ServiceRecordFactory,
    TierChangeFactory,
    TransactionFactory,
)
from tiers import engine as tier_engine
from tiers.choices import RunTrigger
from tiers.models import LifecycleChange, TierChange
from tiers.selectors import active_policy
from tiers.services import tier_run_evaluate_now
from transactions.models import CustomerOrderStats, Payment, Transaction

from .conftest import customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


def _pair(first: Any, second: Any) -> DuplicateCandidate:
    low, high = sorted([first, second], key=lambda c: c.pk)
    return DuplicateCandidate.objects.create(
        customer_a=low, customer_b=high, score=90, reasons=[{"code": "same_phone", "params": {"phone": "1"}}],
        found_at=timezone.now(),
    )  # fmt: skip


def _children(target: Any, primary: bool = True) -> dict[str, Any]:
    """One record of every kind, on ``target``."""
    contact = ContactFactory(customer=target, is_primary=primary, mobile="13900000001", email="a@b.cn")
    order = TransactionFactory(customer=target, amount=Decimal("5000.00"), status="completed")
    payment = Payment.objects.create(customer=target, order=order, kind="payment", paid_on=order.order_date,
                                     amount=Decimal("1000.00"))  # fmt: skip
    campaign = CampaignFactory()
    return {
        "contact": contact,
        "activity": ActivityFactory(customer=target, contact=contact),
        "need": ServiceNeedFactory(customer=target),
        "order": order,
        "payment": payment,
        "service": ServiceRecordFactory(customer=target),
        "feedback": FeedbackFactory(customer=target),
        "answer": SatisfactionResponseFactory(customer=target),
        "participation": ParticipationFactory(customer=target, campaign=campaign),
        "alert": RiskAlertFactory(customer=target),
        "tier_change": TierChangeFactory(customer=target),
        "stage_change": LifecycleChange.objects.create(
            customer=target, from_stage="prospect", to_stage="active", changed_at=timezone.now(), reason="first order"
        ),
    }


KINDS = {
    "contact": Contact, "activity": Activity, "need": ServiceNeed, "order": Transaction, "payment": Payment,
    "service": ServiceRecord, "feedback": Feedback, "answer": SatisfactionResponse, "participation": Participation,
    "alert": RiskAlert, "tier_change": TierChange, "stage_change": LifecycleChange,
}  # fmt: skip


def test_every_kind_of_record_is_known_to_the_merge() -> None:
    """A model that points to a customer either moves with a merge or is named as not
    moving: a new kind of record cannot be forgotten."""
    moved = {model for model, _fk in merging.child_relations()}
    assert moved == set(KINDS.values()) | {merging.child_model("customers.contact")}
    pointing = {
        field.related_model
        for field in Customer._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
    }
    assert pointing == moved | merging.NOT_MOVED


def test_merge_moves_every_record_and_takes_the_values_chosen(manager: Any, rep1: Any, rep2: Any) -> None:
    first = customer(rep1, "杭州明远科技有限公司", phone="0571-8800-1234", website="", notes="老客户")
    second = customer(rep2, "杭州明远科技股份有限公司", phone="+86 571 8800 1234", website="https://my.cn",
                      tax_id="91330100MA2B3C4D5E")  # fmt: skip
    mine = _children(first)
    theirs = _children(second)
    pair = _pair(first, second)
    request = ChangeRequest.objects.create(
        resource="customers", record_id=second.pk, customer_id=second.pk, changes={"credit_limit": "9"},
        previous={}, requested_by=rep2,
    )  # fmt: skip

    merged = merging.customer_merge(
        actor=manager, candidate=pair, keep="a", values={"website": "b", "tax_id": "b", "owner": "a"},
        expected_version=1,
    )  # fmt: skip

    assert merged.status == "merged" and merged.survivor_id == first.pk and merged.merged_id == second.pk
    assert merged.customer_b_id is None and merged.version == 2
    assert not Customer.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert first.website == "https://my.cn" and first.tax_id == "91330100MA2B3C4D5E"
    assert first.notes == "老客户" and first.owner == rep1 and first.version == 2
    for kind, record in theirs.items():
        assert KINDS[kind].objects.get(pk=record.pk).customer_id == first.pk, kind
    # The survivor keeps its primary contact; the other stops being primary.
    assert Contact.objects.get(pk=mine["contact"].pk).is_primary
    assert not Contact.objects.get(pk=theirs["contact"].pk).is_primary
    # Their follow-up still names its contact.
    assert Activity.objects.get(pk=theirs["activity"].pk).contact_id == theirs["contact"].pk
    # The buying rhythm counts both customers' orders (kept by the orders' trigger).
    assert CustomerOrderStats.objects.get(customer=first).order_days == 1
    assert not CustomerOrderStats.objects.filter(customer_id=second.pk).exists()
    request.refresh_from_db()
    assert request.status == ChangeStatus.WITHDRAWN and request.customer_id == first.pk

    event = AuditEvent.objects.get(action="merge")
    assert event.customer_id == first.pk and event.actor == manager
    assert event.changes["merged"]["before"]["name"] == "杭州明远科技股份有限公司"
    assert event.changes["kept"]["after"]["website"] == "https://my.cn"
    assert event.changes["moved"]["after"]["customers.contact"] == [theirs["contact"].pk]
    others = AuditEvent.objects.filter(action__in=["create", "update", "delete"], occurred_at__gte=event.occurred_at)
    assert others.count() == 0


def test_unmerge_puts_everything_back(manager: Any, rep1: Any, rep2: Any) -> None:
    first = customer(rep1, "杭州明远科技有限公司", phone="0571-8800-1234")
    second = customer(rep2, "杭州明远科技股份有限公司", phone="+86 571 8800 1234", tax_id="91330100MA2B3C4D5E",
                      credit_limit=Decimal("50000.00"))  # fmt: skip
    created = Customer.objects.get(pk=second.pk).created_at
    mine = _children(first)
    theirs = _children(second)
    # The same campaign and the same open alert on both sides: set aside, then back.
    both = ParticipationFactory(customer=second, campaign=mine["participation"].campaign, status="attended")
    same = RiskAlertFactory(customer=second, rule=mine["alert"].rule, subject=mine["alert"].subject)
    pair = _pair(first, second)
    merged = merging.customer_merge(
        actor=manager, candidate=pair, keep="a", values={"tax_id": "b", "credit_limit": "b"}, expected_version=1
    )
    assert not Participation.objects.filter(pk=both.pk).exists()
    assert RiskAlert.objects.get(pk=same.pk).status == "resolved"
    later = ActivityFactory(customer=first)  # added to the survivor after the merge: stays there

    restored = merging.customer_unmerge(actor=manager, candidate=merged, expected_version=merged.version)

    assert restored.status == "open" and restored.customer_b_id == second.pk and restored.survivor_id is None
    back = Customer.objects.get(pk=second.pk)
    assert back.name == "杭州明远科技股份有限公司" and back.owner == rep2 and back.created_at == created
    assert back.tax_id == "91330100MA2B3C4D5E" and back.credit_limit == Decimal("50000.00")
    first.refresh_from_db()
    assert first.tax_id == "" and first.credit_limit is None
    for kind, record in theirs.items():
        assert KINDS[kind].objects.get(pk=record.pk).customer_id == second.pk, kind
    for kind, record in mine.items():
        assert KINDS[kind].objects.get(pk=record.pk).customer_id == first.pk, kind
    assert Contact.objects.get(pk=theirs["contact"].pk).is_primary
    assert Participation.objects.get(pk=both.pk).status == "attended"
    assert RiskAlert.objects.get(pk=same.pk).status == "open"
    assert Activity.objects.get(pk=later.pk).customer_id == first.pk
    assert CustomerOrderStats.objects.get(customer=second).order_days == 1
    assert AuditEvent.objects.filter(action="unmerge", customer_id=second.pk).count() == 1
    # Undone once: a second unmerge is refused.
    with pytest.raises(Exception, match="Only a merged pair"):
        merging.customer_unmerge(actor=manager, candidate=restored, expected_version=restored.version)


def test_unmerge_is_refused_after_the_window(manager: Any, rep1: Any, settings: Any) -> None:
    pair = _pair(customer(rep1, "甲公司"), customer(rep1, "甲有限公司"))
    merged = merging.customer_merge(actor=manager, candidate=pair, keep="a", values={}, expected_version=1)
    DuplicateCandidate.objects.filter(pk=merged.pk).update(decided_at=timezone.now() - dt.timedelta(days=31))
    settings.CRM_UNMERGE_DAYS = 30
    with pytest.raises(Exception, match="30 days"):
        merging.customer_unmerge(actor=manager, candidate=merged, expected_version=merged.version)


def test_a_stale_version_or_a_bad_choice_writes_nothing(manager: Any, rep1: Any, rep2: Any) -> None:
    first, second = customer(rep1, "甲公司"), customer(rep2, "甲有限公司", website="https://x.cn")
    pair = _pair(first, second)
    with pytest.raises(Exception, match="changed"):
        merging.customer_merge(actor=manager, candidate=pair, keep="a", values={}, expected_version=7)
    with pytest.raises(Exception) as refused:
        merging.customer_merge(
            actor=manager, candidate=pair, keep="a", values={"id": "b", "website": "c"}, expected_version=1
        )
    assert set(refused.value.field_errors) == {"id", "website"}  # type: ignore[attr-defined]
    assert Customer.objects.filter(pk=second.pk).exists()
    assert DuplicateCandidate.objects.get(pk=pair.pk).status == "open"


def test_a_rep_cannot_take_a_value_they_may_only_propose(rep1: Any) -> None:
    """A rep proposes a tax id by default: a merge cannot change it for them."""
    first, second = customer(rep1, "甲公司"), customer(rep1, "甲有限公司", tax_id="91330100MA2B3C4D5E")
    pair = _pair(first, second)
    with pytest.raises(Exception) as refused:
        merging.customer_merge(actor=rep1, candidate=pair, keep="a", values={"tax_id": "b"}, expected_version=1)
    assert "tax_id" in refused.value.field_errors  # type: ignore[attr-defined]


def test_query_count_does_not_grow_with_the_records_moved(manager: Any, rep1: Any) -> None:
    counts = []
    for size in (1, 1, 6):  # the first merge also loads the field policy
        first, second = customer(rep1, f"乙{size}公司"), customer(rep1, f"乙{size}有限公司")
        for _ in range(size):
            _children(second, primary=False)
        pair = _pair(first, second)
        with CaptureQueriesContext(connection) as queries:
            merging.customer_merge(actor=manager, candidate=pair, keep="a", values={}, expected_version=1)
        counts.append(len(queries))
    assert counts[1] == counts[2]


def test_engines_after_a_merge_agree_with_a_full_recomputation(
    manager: Any, rep1: Any, reference_tiers: None, reference_risk_rules: None
) -> None:
    """The survivor is graded on both customers' orders, and a risk scan after the merge
    leaves nothing a scan comparing every customer would still change."""
    today = timezone.localdate()
    first, second = customer(rep1, "丙科技有限公司"), customer(rep1, "丙科技股份有限公司")
    for days in (400, 200, 100):
        TransactionFactory(customer=first, amount=Decimal("30000"), status="completed",
                           order_date=today - dt.timedelta(days=days))  # fmt: skip
    for days in (90, 60, 30, 5):
        ordered = today - dt.timedelta(days=days)
        TransactionFactory(customer=second, amount=Decimal("3000000"), status="pending", order_date=ordered,
                           due_date=ordered + dt.timedelta(days=3))  # fmt: skip
    tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)
    first.refresh_from_db()
    tier_before = first.tier
    pair = _pair(first, second)
    merging.customer_merge(actor=manager, candidate=pair, keep="a", values={}, expected_version=1)

    tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    risk_scan_now(actor=None, trigger=ScanTrigger.COMMAND)

    policy = active_policy()
    assert policy is not None
    first.refresh_from_db()
    explained = tier_engine.explain_customer(policy=policy, customer_id=first.pk)
    assert explained is not None
    # Graded on both customers' orders, it rose; nothing is left to change.
    assert first.tier == explained["grade"] and explained["decision"] == "unchanged"
    assert first.tier != tier_before and first.tier_score == explained["score"]
    now = timezone.now()
    for rule in RiskRule.objects.filter(enabled=True).prefetch_related("tiers"):
        preview = risk_engine.preview_rule(rule=rule, tier_ids=[t.pk for t in rule.tiers.all()], as_of=now)
        assert not (preview.raised or preview.reseverity or preview.resolved), rule.code
    assert not RiskAlert.objects.filter(customer_id=second.pk).exists()


def test_other_open_pairs_of_the_customer_merged_away_are_dropped(manager: Any, rep1: Any) -> None:
    first, second, third = customer(rep1, "丁公司"), customer(rep1, "丁有限公司"), customer(rep1, "丁股份公司")
    pair = _pair(first, second)
    other = _pair(second, third)
    merging.customer_merge(actor=manager, candidate=pair, keep="a", values={}, expected_version=1)
    assert not DuplicateCandidate.objects.filter(pk=other.pk).exists()
    RiskRuleFactory()  # unrelated writes still work


URL = "/api/v1/duplicate-candidates/"


def test_merge_and_unmerge_through_the_api(api: Any, manager: Any, rep1: Any, rep2: Any, outsider: Any) -> None:
    first = customer(rep1, "戊科技有限公司", phone="0571-8800-5678")
    second = customer(rep2, "戊科技股份有限公司", website="https://wu.cn")
    ContactFactory(customer=second, is_primary=False)
    pair = _pair(first, second)
    client = api(manager)
    body = {"keep": "a", "values": {"website": "b"}}
    assert client.post(f"{URL}{pair.pk}/merge/", body, format="json").status_code == 428
    assert client.post(f"{URL}{pair.pk}/merge/", body, format="json", HTTP_IF_MATCH='"9"').status_code == 412
    bad = client.post(f"{URL}{pair.pk}/merge/", {"keep": "c"}, format="json", HTTP_IF_MATCH='"1"')
    assert bad.status_code == 400 and "keep" in bad.json()["fields"]
    assert api(rep1).post(f"{URL}{pair.pk}/merge/", body, format="json", HTTP_IF_MATCH='"1"').status_code == 403
    outside = api(outsider).post(f"{URL}{pair.pk}/merge/", body, format="json", HTTP_IF_MATCH='"1"')
    assert outside.status_code in (403, 404)

    done = client.post(f"{URL}{pair.pk}/merge/", body, format="json", HTTP_IF_MATCH='"1"')
    assert done.status_code == 200, done.content
    data = done.json()
    assert data["status"] == "merged" and data["survivor"] == first.pk and data["customer_b"] is None
    assert data["merged_id"] == second.pk and data["unmerge_until"] and done["ETag"] == '"2"'
    assert Customer.objects.get(pk=first.pk).website == "https://wu.cn"
    # The merged pair stays readable, to whoever sees the customer kept.
    assert client.get(f"{URL}{pair.pk}/").json()["status"] == "merged"
    assert client.get(f"{URL}?status=merged").json()["results"][0]["id"] == pair.pk
    again = client.post(f"{URL}{pair.pk}/merge/", body, format="json", HTTP_IF_MATCH='"2"')
    assert again.status_code == 400

    undone = client.post(f"{URL}{pair.pk}/unmerge/", HTTP_IF_MATCH='"2"')
    assert undone.status_code == 200, undone.content
    assert undone.json()["status"] == "open" and undone.json()["customer_b"]["id"] == second.pk
    assert Customer.objects.get(pk=first.pk).website == ""
    assert client.post(f"{URL}{pair.pk}/unmerge/", HTTP_IF_MATCH='"3"').status_code == 400


def test_merge_and_unmerge_from_the_pages(client: Any, manager: Any, rep1: Any, rep2: Any) -> None:
    first = customer(rep1, "己科技有限公司")
    second = customer(rep2, "己科技股份有限公司", website="https://ji.cn")
    pair = _pair(first, second)
    client.force_login(manager)
    page = client.get(f"/duplicates/{pair.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="merge-form"' in page and 'name="value-website"' in page
    assert 'name="value-tier"' not in page  # graded by the engine, never chosen
    done = client.post(f"/duplicates/{pair.pk}/merge/", {"version": "1", "keep": "a", "value-website": "b"})
    assert done.status_code == 302 and done["Location"] == f"/customers/{first.pk}/"
    assert Customer.objects.get(pk=first.pk).website == "https://ji.cn"
    merged = client.get(f"/duplicates/{pair.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "己科技股份有限公司" in merged and 'data-testid="unmerge"' in merged
    assert "已合并" in client.get("/duplicates/?status=merged", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    client.post(f"/duplicates/{pair.pk}/unmerge/", {"version": "2"})
    assert Customer.objects.filter(pk=second.pk).exists()
    client.force_login(rep1)
    assert client.post(f"/duplicates/{pair.pk}/merge/", {"version": "3", "keep": "a"}).status_code == 403
