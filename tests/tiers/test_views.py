"""The tier dashboard against a hand-computed fixture, its drill-downs, the runs page and
the admin's policy editor with its what-if preview."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from customers.models import Customer
from tests.factories import CustomerFactory, RiskAlertFactory, TransactionFactory, UserFactory, tier
from tiers import services
from tiers.choices import RunTrigger
from tiers.models import ScoringPolicy, TierRun

pytestmark = pytest.mark.django_db


def _buyer(owner: Any, amount: int, orders: int = 1, **extra: Any) -> Customer:
    extra.setdefault("influence_score", 0)
    customer = CustomerFactory(owner=owner, customer_since=timezone.localdate() - dt.timedelta(days=330), **extra)
    for n in range(orders):
        TransactionFactory(
            customer=customer,
            amount=Decimal(amount) / orders,
            status="completed",
            order_date=timezone.localdate() - dt.timedelta(days=5 + n),
        )
    return customer


def test_dashboard_numbers_match_the_fixture(client: Any, manager: Any, rep1: Any, outsider: Any) -> None:
    # Scores (default policy; customers of 330 days earn about 2.7 tenure points):
    # ¥600k over 24 orders → 40 + 20 + 2.7 → gold; ¥250k once → 20 + 0.8 + 2.7 → bronze;
    # ¥1.2M over 24 orders and influence 10 → 40 + 20 + 2.7 + 15 → platinum.
    gold = _buyer(rep1, 600_000, 24, region="east", industry="it")
    bronze = _buyer(rep1, 250_000, 1, region="east", industry="retail")
    platinum = _buyer(rep1, 1_200_000, 24, region="south", industry="it", influence_score=10, lifecycle_stage="key")
    _buyer(outsider, 900_000, 24, region="east")  # another team: not in the manager's numbers
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    RiskAlertFactory(customer=platinum)

    client.force_login(manager)
    response = client.get("/tiers/")
    d = response.context["d"]
    per_tier = {row["tier"].code if row["tier"] else None: row for row in d.tiers}
    assert per_tier["gold"]["customers"] == 1 and per_tier["gold"]["revenue"] == Decimal("600000")
    assert per_tier["bronze"]["customers"] == 1 and per_tier["bronze"]["revenue"] == Decimal("250000")
    assert per_tier["platinum"]["customers"] == 1 and per_tier["platinum"]["revenue"] == Decimal("1200000")
    assert per_tier["diamond"]["customers"] == 0
    # The first evaluation graded everyone: three moves from "no tier", one per tier.
    assert d.matrix["cells"] == {
        (None, tier("bronze").pk): 1,
        (None, tier("gold").pk): 1,
        (None, tier("platinum").pk): 1,
    }
    assert [(p["up"], p["down"]) for p in d.trend] == [(3, 0)]
    assert d.at_risk == [platinum]
    east = next(row for row in d.by_region if row["key"] == "east")
    assert east["total"] == 2 and east["cells"][tier("gold").rank - 1] == 1

    run = TierRun.objects.get()
    moves = client.get("/tiers/moves/", {"run": run.pk, "from": "none", "to": tier("gold").pk})
    assert [c.customer for c in moves.context["page"]] == [gold]
    assert len(client.get("/tiers/moves/", {"run": run.pk, "kind": "upgrade"}).context["page"]) == 3
    assert bronze.pk in {c.customer_id for c in client.get("/tiers/moves/", {"run": run.pk}).context["page"]}


def test_a_rep_sees_only_their_book(client: Any, rep1: Any, rep2: Any) -> None:
    _buyer(rep1, 500_000, 24)
    _buyer(rep2, 500_000, 24)
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    client.force_login(rep1)
    d = client.get("/tiers/").context["d"]
    assert sum(row["customers"] for row in d.tiers) == 1
    assert client.post("/tiers/runs/start/").status_code == 403


def test_a_manager_starts_an_evaluation(client: Any, manager: Any, rep1: Any) -> None:
    _buyer(rep1, 1000)
    client.force_login(manager)
    response = client.post("/tiers/runs/start/")
    assert response.status_code == 302
    run = TierRun.objects.get()
    assert run.trigger == "manual" and run.requested_by == manager and run.state == "queued"
    page = client.get("/tiers/runs/").content.decode()
    assert f'data-testid="run-{run.pk}"' in page


def test_the_policy_editor_previews_and_saves(client: Any, admin_user: Any, rep1: Any) -> None:
    customer = _buyer(rep1, 600_000, 24)  # about 62.7 points: gold
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    client.force_login(admin_user)
    form = client.get("/console/tier-policy/").context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update({f"threshold_{code}": value for code, value in ScoringPolicy.objects.get().thresholds.items()})
    data["key_account_tier"] = tier("platinum").pk
    data["threshold_gold"] = 65  # the customer would fall to silver
    preview = client.post("/console/tier-policy/", {**data, "preview": "1"})
    assert preview.status_code == 200
    result = preview.context["preview"]
    # As a run would: below gold now, the customer keeps it for the grace period.
    assert (result.down, result.up, result.in_grace) == (0, 0, 1) and result.moves == []
    assert result.sample_grace[0]["customer"] == customer and result.sample_grace[0]["to"] == tier("silver")
    assert b"preview-grace" in preview.content and "→".encode() in preview.content
    assert ScoringPolicy.objects.count() == 1  # a preview writes nothing
    bad = client.post("/console/tier-policy/", {**data, "spend_weight": 90, "save": "1"})
    assert bad.status_code == 400 and ScoringPolicy.objects.count() == 1
    saved = client.post("/console/tier-policy/", {**data, "note": "黄金门槛提高到 65", "save": "1"})
    assert saved.status_code == 302
    active = ScoringPolicy.objects.get(is_active=True)
    assert active.version == 2 and active.thresholds["gold"] == 65.0 and active.note == "黄金门槛提高到 65"
    outsider = UserFactory(role="manager")
    client.force_login(outsider)
    assert client.get("/console/tier-policy/").status_code == 403


def test_the_customer_page_explains_the_tier(client: Any, rep1: Any) -> None:
    customer = _buyer(rep1, 250_000, 12, influence_score=6)
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    client.force_login(rep1)
    panel = client.get(f"/customers/{customer.pk}/").context["tier_panel"]
    e = panel["explanation"]
    # 20 (spend) + 10 (orders) + about 2.7 (tenure) + 9 (influence) ≈ 41.7 → silver; gold at 60.
    assert e["grade"] == tier("silver") and e["points"]["spend"][0] == Decimal("20.00")
    assert e["next_tier"] == tier("gold") and e["next_needs"] == Decimal("60") - e["score"]


def test_a_manager_overrides_the_tier_on_the_customer_page(client: Any, manager: Any, rep1: Any) -> None:
    customer = _buyer(rep1, 1000)
    services.tier_run_evaluate_now(actor=None, trigger=RunTrigger.COMMAND)
    client.force_login(rep1)
    assert client.post(f"/customers/{customer.pk}/tier-override/", {"tier": "gold"}).status_code == 404
    client.force_login(manager)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="override"' in page
    day = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = client.post(
        f"/customers/{customer.pk}/tier-override/", {"tier": "gold", "until": day, "reason": "战略合作伙伴"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.tier == tier("gold") and customer.tier_override_until.date().isoformat() == day
    refused = client.post(f"/customers/{customer.pk}/tier-override/", {"tier": "gold", "until": day, "reason": " "})
    assert refused.status_code == 302 and customer.tier_changes.filter(kind="override").count() == 1
