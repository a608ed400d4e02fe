"""The default field policy of a visit's check-in, shipped as data (admins change it).

Where a rep was is personal data: integrations (the data warehouse, the ERP) do not see
a check-in's coordinates unless an admin grants them; reps and managers do.
"""

from django.db import migrations

DEFAULTS = [("activities", field, "integration", "hidden") for field in ("latitude", "longitude", "location_accuracy")]


def seed(apps, schema_editor):
    FieldPermission = apps.get_model("access", "FieldPermission")
    for resource, field, role, level in DEFAULTS:
        FieldPermission.objects.get_or_create(resource=resource, field=field, role=role, defaults={"level": level})


def unseed(apps, schema_editor):
    FieldPermission = apps.get_model("access", "FieldPermission")
    for resource, field, role, _level in DEFAULTS:
        FieldPermission.objects.filter(resource=resource, field=field, role=role).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0013_activity_check_in"), ("access", "0003_default_field_policy")]

    operations = [migrations.RunPython(seed, unseed)]
