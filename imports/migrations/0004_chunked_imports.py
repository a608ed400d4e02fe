"""Imports write in chunks: their progress, cancelling, and the records they wrote in a
table of their own (moved from the job's ``written`` list)."""

import django.db.models.deletion
from django.db import migrations, models


def move_written(apps, schema_editor):
    ImportJob = apps.get_model("imports", "ImportJob")
    ImportedRecord = apps.get_model("imports", "ImportedRecord")
    for job in ImportJob.objects.exclude(written=[]).iterator():
        ImportedRecord.objects.bulk_create(
            ImportedRecord(job=job, record_id=pk, action=action, version=version, before=before or {})
            for pk, action, version, before in job.written
        )
        job.to_write = job.done_rows = len(job.written)
        job.save(update_fields=["to_write", "done_rows"])


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0003_job_details'),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='cancel_requested',
            field=models.BooleanField(default=False, verbose_name='cancel requested'),
        ),
        migrations.AddField(
            model_name='importjob',
            name='done_rows',
            field=models.PositiveIntegerField(default=0, verbose_name='rows written'),
        ),
        migrations.AddField(
            model_name='importjob',
            name='last_row',
            field=models.PositiveIntegerField(default=0, verbose_name='last row written'),
        ),
        migrations.AddField(
            model_name='importjob',
            name='to_write',
            field=models.PositiveIntegerField(default=0, verbose_name='rows to write'),
        ),
        migrations.AlterField(
            model_name='importjob',
            name='state',
            field=models.CharField(choices=[('checked', 'Checked (dry run)'), ('importing', 'Importing'), ('done', 'Imported'), ('failed', 'Failed'), ('cancelled', 'Cancelled'), ('undone', 'Undone')], default='checked', max_length=12, verbose_name='state'),
        ),
        migrations.CreateModel(
            name='ImportedRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('record_id', models.BigIntegerField(verbose_name='record')),
                ('action', models.CharField(max_length=10, verbose_name='action')),
                ('version', models.PositiveIntegerField(verbose_name='version')),
                ('before', models.JSONField(blank=True, default=dict, verbose_name='values before')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='records', to='imports.importjob', verbose_name='import')),
            ],
            options={
                'verbose_name': 'imported record',
                'verbose_name_plural': 'imported records',
                'constraints': [models.UniqueConstraint(fields=('job', 'record_id'), name='imported_record_once')],
            },
        ),
        migrations.RunPython(move_written, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='importjob',
            name='written',
        ),
    ]
