"""The one row of risk settings, with the defaults: the daily scan at 06:00, the SLA hours
of ``risk.choices.DEFAULT_SLA_HOURS`` and the daily digest on."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("risk", "RiskSettings").objects.get_or_create(
        singleton=True, defaults={"sla_hours": {"critical": 4, "high": 24, "medium": 72, "low": 168}}
    )


class Migration(migrations.Migration):
    dependencies = [("risk", "0006_alerts_to_tell")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
