"""The default field policy of a sales organisation, shipped as data (admins change it).

* Reps read, but do not edit, a customer's tier, tax id and credit terms, the payment
  confirmation of an order, and the rule and severity of a risk alert; managers and
  admins write them.
* Integrations see contacts' phone numbers, e-mail, WeChat, other accounts and birthday
  masked unless an admin grants more.
"""

from django.db import migrations

DEFAULTS = [
    *[("customers", field, "rep", "read") for field in (
        "tier", "tier_score", "tier_since", "tier_evaluated_at", "tier_next_evaluation_at",
        "tax_id", "credit_limit", "payment_terms_days",
    )],
    *[("transactions", field, "rep", "read") for field in ("paid_amount", "paid_date")],
    *[("risk-alerts", field, "rep", "read") for field in ("rule", "severity")],
    *[("contacts", field, "integration", "masked") for field in (
        "phone", "mobile", "email", "wechat", "social_accounts", "birthday",
    )],
]


def seed(apps, schema_editor):
    FieldPermission = apps.get_model("access", "FieldPermission")
    for resource, field, role, level in DEFAULTS:
        FieldPermission.objects.get_or_create(resource=resource, field=field, role=role, defaults={"level": level})


def unseed(apps, schema_editor):
    FieldPermission = apps.get_model("access", "FieldPermission")
    for resource, field, role, _level in DEFAULTS:
        FieldPermission.objects.filter(resource=resource, field=field, role=role).delete()


class Migration(migrations.Migration):
    dependencies = [("access", "0002_reveal_allowed")]

    operations = [migrations.RunPython(seed, unseed)]
