"""The default rules' full parameters and their severity by measure."""

from django.db import migrations

RULES = {
    "overdue-payment-30": {
        "name": "回款逾期 / Overdue payment",
        "params": {
            "days_overdue": 1,
            "min_amount": 1000,
            "min_amount_by_currency": {"USD": 150, "EUR": 130, "HKD": 1100, "JPY": 20000},
        },
        "severity": "low",
        "severity_levels": [[1, "low"], [31, "medium"], [61, "high"], [91, "critical"]],
    },
    "cancellations-90": {
        "params": {"count": 2, "rate": 0.3, "min_orders": 3, "window_days": 90, "reorder_days": 7},
        "severity": "medium",
        "severity_levels": [[2, "medium"], [4, "high"]],
    },
    "satisfaction-drop": {
        "params": {"drop": 1.0, "window_days": 90, "baseline_days": 365, "min_responses": 1},
        "severity": "medium",
        "severity_levels": [[1, "medium"], [2, "high"]],
    },
    "inactivity": {
        "params": {"factor": 2.0, "min_days": 60, "min_orders": 3},
        "severity": "medium",
        "severity_levels": [[2, "medium"], [4, "high"]],
    },
    "complaint-spike": {
        "params": {"count": 3, "window_days": 30},
        "severity": "high",
        "severity_levels": [[3, "high"], [5, "critical"]],
    },
}


def update(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    for code, values in RULES.items():
        RiskRule.objects.filter(code=code).update(**values)


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_scan_engine")]

    operations = [migrations.RunPython(update, migrations.RunPython.noop)]
