"""Alerts are vacuumed after every daily scan, not after a fifth of them changed.

A scan reads the open alerts from their unique index alone, which stays possible only
while the table's visibility map is current: a daily scan changes a few per cent of the
alerts, so the table's autovacuum threshold is set to one per cent of its rows (the
default, twenty per cent, would leave it a week or more between passes).
"""

from django.db import migrations

SETTINGS = (
    "autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01, "
    "autovacuum_analyze_scale_factor = 0.01"
)


class Migration(migrations.Migration):
    dependencies = [("risk", "0013_alerts_index_only_what_is_looked_up")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE risk_riskalert SET ({SETTINGS})",
            "ALTER TABLE risk_riskalert RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)",
        ),
    ]
