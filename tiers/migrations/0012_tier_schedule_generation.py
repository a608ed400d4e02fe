from django.db import migrations

# Every change to these tables replaces the token of what processes keep from them
# (crm.core.generations), in the same transaction.
FORWARD = """
CREATE TRIGGER tiers_scoringpolicy_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tiers_scoringpolicy
    FOR EACH STATEMENT EXECUTE FUNCTION crm_generation_bump('tier_schedule');
INSERT INTO core_generation (name, token) VALUES ('tier_schedule', gen_random_uuid())
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;

CREATE TRIGGER tiers_tierrun_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tiers_tierrun
    FOR EACH STATEMENT EXECUTE FUNCTION crm_generation_bump('tier_schedule');
INSERT INTO core_generation (name, token) VALUES ('tier_schedule', gen_random_uuid())
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tiers_scoringpolicy_generation ON tiers_scoringpolicy;
DROP TRIGGER IF EXISTS tiers_tierrun_generation ON tiers_tierrun;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_generations"),
        ("tiers", "0011_figures_follow_truncate"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
