from django.db import migrations

# Records that belong to a customer may carry a copy of its owner and team
# (``customer_owner_id``, ``customer_team_id``), by which they are scoped (crm.access.scope)
# without looking up each record's customer.  These functions keep such copies; each app
# that copies attaches them to its tables (risk, feedback).
#
# A copy is taken when a record is written with its customer (before insert, or when
# its customer or its copy is written), and follows a customer whose owner or team
# changes.  Both hold the advisory lock "customer_scope_copies", shared by the writers of
# records and taken alone by a change of owner or team, so that a record written at the
# same time as its customer moves is never left with the old owner: whichever waits
# reads what the other committed (a trigger's statements read the latest committed rows).
FUNCTIONS = """
CREATE OR REPLACE FUNCTION customers_copy_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('customer_scope_copies'));
    SELECT c.owner_id, c.team_id INTO NEW.customer_owner_id, NEW.customer_team_id
    FROM customers_customer c WHERE c.id = NEW.customer_id;
    RETURN NEW;
END $$;
"""

DROP = "DROP FUNCTION IF EXISTS customers_copy_scope();"


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0020_scope_probe"),
    ]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
