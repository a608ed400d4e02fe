"""A rule's name and playbook in each language, instead of both in one text.

The names written "回款逾期 / Overdue payment" and the playbooks written as a Chinese line
then an English line are split into their languages (``crm.core.localized``).  Alerts
stop copying their rule's name and playbook: those that still carry the rule's text get
none of their own, so they show the rule's in the reader's language.
"""

from django.db import migrations, models

from crm.core.localized import split_bilingual

_ALERTS_FOLLOW_RULE = """
SET LOCAL crm.risk_scan = 'on';
UPDATE risk_riskalert a SET title = '' FROM risk_riskrule r WHERE a.rule_id = r.id AND a.title = r.name;
UPDATE risk_riskalert a SET recommended_action = ''
FROM risk_riskrule r WHERE a.rule_id = r.id AND a.recommended_action = r.playbook AND a.recommended_action <> '';
SET LOCAL crm.risk_scan = 'off';
"""

_ALERTS_COPY_RULE = """
SET LOCAL crm.risk_scan = 'on';
UPDATE risk_riskalert a SET title = r.name FROM risk_riskrule r WHERE a.rule_id = r.id AND a.title = '';
UPDATE risk_riskalert a SET recommended_action = r.playbook
FROM risk_riskrule r WHERE a.rule_id = r.id AND a.recommended_action = '';
SET LOCAL crm.risk_scan = 'off';
"""


def split(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    for rule in RiskRule.objects.all():
        rule.name_zh, rule.name_en = split_bilingual(rule.name)
        rule.playbook_zh, rule.playbook_en = split_bilingual(rule.playbook)
        rule.save(update_fields=["name_zh", "name_en", "playbook_zh", "playbook_en"])
    schema_editor.execute(_ALERTS_FOLLOW_RULE)


def join(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    for rule in RiskRule.objects.all():
        rule.name = " / ".join(part for part in (rule.name_zh, rule.name_en) if part)
        rule.playbook = "\n".join(part for part in (rule.playbook_zh, rule.playbook_en) if part)
        rule.save(update_fields=["name", "playbook"])
    schema_editor.execute(_ALERTS_COPY_RULE)


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0015_constraint_messages"),
        ("tiers", "0007_constraint_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskrule",
            name="name_zh",
            field=models.CharField(blank=True, max_length=200, verbose_name="name (Chinese)"),
        ),
        migrations.AddField(
            model_name="riskrule",
            name="name_en",
            field=models.CharField(blank=True, max_length=200, verbose_name="name (English)"),
        ),
        migrations.AddField(
            model_name="riskrule",
            name="playbook_zh",
            field=models.TextField(blank=True, verbose_name="response strategy (Chinese)"),
        ),
        migrations.AddField(
            model_name="riskrule",
            name="playbook_en",
            field=models.TextField(blank=True, verbose_name="response strategy (English)"),
        ),
        migrations.AlterField(
            model_name="riskrule",
            name="name",
            field=models.CharField(blank=True, max_length=200, verbose_name="name"),
        ),
        migrations.RunPython(split, join),
        migrations.RemoveField(model_name="riskrule", name="name"),
        migrations.RemoveField(model_name="riskrule", name="playbook"),
        migrations.AlterField(
            model_name="riskalert",
            name="title",
            field=models.CharField(blank=True, max_length=200, verbose_name="title"),
        ),
        migrations.AddConstraint(
            model_name="riskrule",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("name_zh", ""), _negated=True), models.Q(("name_en", ""), _negated=True), _connector="OR"
                ),
                name="riskrule_named",
                violation_error_message="Give the rule a name in Chinese or in English.",
            ),
        ),
    ]
