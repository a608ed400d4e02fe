"""Reps propose, rather than only read, a customer's tax id, credit limit and payment
terms: a manager of the team (or an admin) approves each change.  Rows an admin has
changed since (to anything but ``read``) are left as they are."""

from django.db import migrations

FIELDS = ("tax_id", "credit_limit", "payment_terms_days")


def forward(apps, schema_editor):
    FieldPermission = apps.get_model("access", "FieldPermission")
    for field in FIELDS:
        row, created = FieldPermission.objects.get_or_create(
            resource="customers", field=field, role="rep", defaults={"level": "propose"}
        )
        if not created and row.level == "read":
            row.level = "propose"
            row.save(update_fields=["level"])


def backward(apps, schema_editor):
    FieldPermission = apps.get_model("access", "FieldPermission")
    FieldPermission.objects.filter(resource="customers", field__in=FIELDS, role="rep", level="propose").update(
        level="read"
    )


class Migration(migrations.Migration):
    dependencies = [("access", "0004_change_requests")]

    operations = [migrations.RunPython(forward, backward)]
