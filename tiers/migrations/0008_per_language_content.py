"""A tier's benefits and description in each language, instead of both in one text.

Benefits written "专属客户经理 / Dedicated account manager" are split into the Chinese
list and the English list (``crm.core.localized``); a benefit in one language only goes
to that language's list.  A tier needs a name in at least one language.
"""

from django.db import migrations, models

from crm.core.localized import split_bilingual


def split(apps, schema_editor):
    Tier = apps.get_model("tiers", "Tier")
    for tier in Tier.objects.all():
        parts = [split_bilingual(str(benefit)) for benefit in tier.benefits or []]
        tier.benefits_zh = [zh for zh, _en in parts if zh]
        tier.benefits_en = [en for _zh, en in parts if en]
        tier.description_zh, tier.description_en = split_bilingual(tier.description)
        tier.save(update_fields=["benefits_zh", "benefits_en", "description_zh", "description_en"])


def join(apps, schema_editor):
    Tier = apps.get_model("tiers", "Tier")
    for tier in Tier.objects.all():
        zh, en = list(tier.benefits_zh or []), list(tier.benefits_en or [])
        if len(zh) == len(en):
            tier.benefits = [f"{a} / {b}" for a, b in zip(zh, en, strict=True)]
        else:
            tier.benefits = zh + en
        tier.description = "\n".join(part for part in (tier.description_zh, tier.description_en) if part)
        tier.save(update_fields=["benefits", "description"])


class Migration(migrations.Migration):
    dependencies = [("tiers", "0007_constraint_messages")]

    operations = [
        migrations.AddField(
            model_name="tier",
            name="benefits_zh",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="List of benefits, one string each.",
                verbose_name="benefits (Chinese)",
            ),
        ),
        migrations.AddField(
            model_name="tier",
            name="benefits_en",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="List of benefits, one string each.",
                verbose_name="benefits (English)",
            ),
        ),
        migrations.AddField(
            model_name="tier",
            name="description_zh",
            field=models.TextField(blank=True, verbose_name="description (Chinese)"),
        ),
        migrations.AddField(
            model_name="tier",
            name="description_en",
            field=models.TextField(blank=True, verbose_name="description (English)"),
        ),
        migrations.RunPython(split, join),
        migrations.RemoveField(model_name="tier", name="benefits"),
        migrations.RemoveField(model_name="tier", name="description"),
        migrations.AlterField(
            model_name="tier",
            name="name_en",
            field=models.CharField(blank=True, max_length=50, verbose_name="name (English)"),
        ),
        migrations.AlterField(
            model_name="tier",
            name="name_zh",
            field=models.CharField(blank=True, max_length=50, verbose_name="name (Chinese)"),
        ),
        migrations.AddConstraint(
            model_name="tier",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("name_zh", ""), _negated=True), models.Q(("name_en", ""), _negated=True), _connector="OR"
                ),
                name="tier_named",
                violation_error_message="Give the tier a name in Chinese or in English.",
            ),
        ),
    ]
