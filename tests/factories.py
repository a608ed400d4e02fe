"""Factories for every model, producing valid, realistic rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import import_module
from typing import Any

import factory
from django.utils import timezone

from campaigns.models import Campaign, Participation
from crm.accounts.choices import Role
from crm.accounts.models import Team, User
from crm.core.localized import split_bilingual
from customers.models import Activity, Contact, Customer, ServiceNeed
from feedback.models import Feedback, SatisfactionResponse, ServiceRecord
from risk.models import RiskAlert, RiskRule
from tiers.models import Tier, TierChange
from transactions.models import Product, Transaction


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"华东{n}组")
    region = "east"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    password = factory.PostGenerationMethodCall("set_password", "s3cret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"T{n:07d}")
    name = factory.Sequence(lambda n: f"上海测试科技有限公司 {n}")
    industry = "it"
    region = "east"
    province = "上海市"
    city = "上海"
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.owner.team)
    lifecycle_stage = "active"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"张{n}")
    title = "采购经理"
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    mobile = "13812345678"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    customer = factory.SubFactory(CustomerFactory)
    kind = "call"
    subject = factory.Sequence(lambda n: f"电话回访 {n}")
    assignee = factory.LazyAttribute(lambda a: a.customer.owner)
    occurred_at = factory.LazyFunction(timezone.now)


class ServiceNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceNeed

    customer = factory.SubFactory(CustomerFactory)
    kind = "customization"
    title = factory.Sequence(lambda n: f"定制包装需求 {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"工业传感器 {n}")
    list_price = Decimal("1200.00")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("2")
    amount = Decimal("2400.00")
    order_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=10))
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=20))
    status = "pending"


class ServiceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceRecord

    customer = factory.SubFactory(CustomerFactory)
    service_date = factory.LazyFunction(timezone.localdate)
    service_type = "repair"
    staff_name = "李工"
    result = "resolved"
    rating = 5


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    customer = factory.SubFactory(CustomerFactory)
    kind = "suggestion"
    subject = factory.Sequence(lambda n: f"建议增加夜间配送 {n}")
    received_at = factory.LazyFunction(timezone.now)


class SatisfactionResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionResponse

    customer = factory.SubFactory(CustomerFactory)
    responded_at = factory.LazyFunction(timezone.now)
    csat = 4
    nps = 9


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"2026 工业博览会 {n}")
    channel = "exhibition"
    start_date = factory.LazyFunction(timezone.localdate)
    budget = Decimal("50000")


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
    status = "invited"


def tier(code: str = "gold") -> Tier:
    """The seeded tiers ship with the migrations; tests use them rather than new ones."""
    return Tier.objects.get(code=code)


def restore_shipped_tiers() -> None:
    """The five tiers as the migrations leave them (their benefits split per language),
    for a test after an earlier transactional test emptied the tables."""
    for code, name_en, name_zh, rank, colour, min_score, benefits in import_module(
        "tiers.migrations.0002_seed_tiers"
    ).TIERS:
        parts = [split_bilingual(benefit) for benefit in benefits]
        Tier.objects.update_or_create(
            code=code,
            defaults={
                "name_en": name_en, "name_zh": name_zh, "rank": rank, "colour": colour,
                "min_score": Decimal(min_score), "benefits_zh": [zh for zh, _en in parts if zh],
                "benefits_en": [en for _zh, en in parts if en],
            },
        )  # fmt: skip


def restore_shipped_rules() -> None:
    """The five default risk rules as the migrations leave them (names and playbooks
    split per language), for a test after an earlier transactional test emptied the tables."""
    later: dict[str, dict[str, Any]] = import_module("risk.migrations.0004_rule_levels").RULES
    for code, name, kind, severity, params, playbook in import_module("risk.migrations.0002_default_rules").RULES:
        values = {"name": name, "kind": kind, "severity": severity, "params": params, "enabled": True}
        values.update(later.get(code, {}))
        values["name_zh"], values["name_en"] = split_bilingual(values.pop("name"))
        values["playbook_zh"], values["playbook_en"] = split_bilingual(playbook)
        RiskRule.objects.update_or_create(code=code, defaults=values)


class TierChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierChange

    customer = factory.SubFactory(CustomerFactory)
    to_tier = factory.LazyFunction(lambda: tier("silver"))
    kind = "initial"
    changed_at = factory.LazyFunction(timezone.now)
    reason = "first grading"


class RiskRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskRule

    code = factory.Sequence(lambda n: f"overdue-{n}")
    name_en = "Overdue payment"
    kind = "overdue_payment"
    severity = "high"
    params = factory.LazyFunction(lambda: {"days_overdue": 30})
    playbook_en = "Call the finance contact; pause credit."


class RiskAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskAlert

    customer = factory.SubFactory(CustomerFactory)
    rule = factory.SubFactory(RiskRuleFactory)
    subject = factory.Sequence(lambda n: f"order-{n}")
    severity = "high"
    title = "Payment 30 days overdue"
    raised_at = factory.LazyFunction(timezone.now)
