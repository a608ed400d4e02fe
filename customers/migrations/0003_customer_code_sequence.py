"""A sequence for customer codes (C0000001 ...), so concurrent creates never collide."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS customers_customer_code_seq START 1;",
            "DROP SEQUENCE IF EXISTS customers_customer_code_seq;",
        )
    ]
