from django.db import migrations

# Every change to these tables replaces the token of what processes keep from them
# (crm.core.generations), in the same transaction.
FORWARD = """
CREATE TRIGGER access_fieldpermission_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON access_fieldpermission
    FOR EACH STATEMENT EXECUTE FUNCTION crm_generation_bump('field_policy');
INSERT INTO core_generation (name, token) VALUES ('field_policy', gen_random_uuid())
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS access_fieldpermission_generation ON access_fieldpermission;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_generations"),
        ("access", "0006_change_request_language"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
