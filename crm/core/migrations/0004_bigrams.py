from django.db import migrations

# The two-character pieces of each text (crm.core.search): IMMUTABLE, so that indexes may
# be built on it; a NULL text has none.  A piece may repeat: the GIN index keeps each once.
BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION crm_bigrams(VARIADIC texts text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT substr(t, i, 2) FROM unnest(texts) AS t, generate_series(1, char_length(t) - 1) AS i)
$$;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_generations'),
    ]

    operations = [
        migrations.RunSQL(BIGRAMS_FUNCTION, "DROP FUNCTION IF EXISTS crm_bigrams(VARIADIC text[]);"),
    ]
