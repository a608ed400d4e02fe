"""The first scoring policy, as data: thresholds from the shipped tiers, key accounts
from Platinum, reviewed quarterly."""

from decimal import Decimal

from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    Tier = apps.get_model("tiers", "Tier")
    ScoringPolicy = apps.get_model("tiers", "ScoringPolicy")
    if ScoringPolicy.objects.exists():
        return
    thresholds = {tier.code: float(tier.min_score) for tier in Tier.objects.order_by("rank")}
    ScoringPolicy.objects.create(
        version=1,
        is_active=True,
        note="Default policy",
        window_days=365,
        spend_weight=Decimal(40),
        spend_cap=Decimal(500000),
        orders_weight=Decimal(20),
        orders_cap=24,
        tenure_weight=Decimal(15),
        tenure_cap_years=5,
        influence_weight=Decimal(15),
        satisfaction_weight=Decimal(10),
        thresholds=thresholds,
        grace_days=90,
        period="quarterly",
        churn_after_days=365,
        key_account_tier=Tier.objects.filter(code="platinum").first(),
    )


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("tiers", "ScoringPolicy").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("tiers", "0003_tierchange_override_until_scoringpolicy_and_more")]
    operations = [migrations.RunPython(create, remove)]
