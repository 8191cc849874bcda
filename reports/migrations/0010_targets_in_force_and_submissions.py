# Targets get a window of days they are in force (one per area and indicator at a time);
# reports submitted for a period are kept with the sites behind their numbers.

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
import django.db.models.deletion
import django.utils.timezone
import reports.models
from django.conf import settings
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('areas', '0001_area_tree_from_mapping'),
        ('reports', '0009_asof_follows_site_versions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Equality on plain columns inside the targets' exclusion constraint.
        BtreeGistExtension(),
        migrations.CreateModel(
            name='ReportSubmission',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_kind', models.CharField(max_length=10)),
                ('period_start', models.DateField(verbose_name='period from')),
                ('period_end', models.DateField(verbose_name='period to')),
                ('number', models.PositiveIntegerField(verbose_name='number')),
                ('symbol', models.CharField(max_length=30, verbose_name='symbol')),
                ('submitted_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='submitted at')),
                ('status', models.CharField(choices=[('submitted', 'Submitted, waiting for approval'), ('approved', 'Approved'), ('returned', 'Returned for correction')], default='submitted', max_length=10, verbose_name='status')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                ('decision_note', models.TextField(blank=True, verbose_name='note on the decision')),
                ('numbers', models.JSONField(verbose_name='numbers')),
                ('issuing_body', models.CharField(max_length=200, verbose_name='issuing body')),
                ('parent_body', models.CharField(blank=True, max_length=200, verbose_name='body above it')),
                ('place', models.CharField(max_length=100, verbose_name='place')),
                ('signer_capacity', models.CharField(blank=True, max_length=100, verbose_name='signs as')),
                ('signer_title', models.CharField(max_length=100, verbose_name="signer's title")),
                ('signer_name', models.CharField(max_length=100, verbose_name="signer's name")),
                ('recipients', models.TextField(blank=True, verbose_name='recipients')),
                ('narrative', models.TextField(blank=True, verbose_name='assessment and proposals')),
                ('area', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='areas.area', verbose_name='area')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('submitted_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='submitted by')),
            ],
            options={
                'verbose_name': 'submitted report',
                'verbose_name_plural': 'submitted reports',
                'ordering': ['-submitted_at'],
            },
        ),
        migrations.CreateModel(
            name='SubmittedSite',
            fields=[
                ('pk', models.CompositePrimaryKey('submission_id', 'site_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('site_id', models.UUIDField()),
                ('child_code', models.CharField(max_length=20)),
                ('kind', models.CharField(max_length=20)),
                ('signage', models.CharField(blank=True, max_length=10)),
                ('barrier', models.CharField(blank=True, max_length=10)),
                ('state', models.CharField(choices=[('unprotected', 'Unprotected'), ('signed_only', 'Signed only'), ('fenced_only', 'Fenced only'), ('protected', 'Protected'), ('closed', 'Closed')], max_length=12)),
                ('observed_at', models.DateTimeField(null=True)),
                ('inspected', models.BooleanField()),
                ('with_photo', models.BooleanField()),
                ('unverified', models.BooleanField()),
                ('submission', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sites', to='reports.reportsubmission')),
            ],
        ),
        migrations.AlterModelOptions(
            name='target',
            options={'ordering': ['area__path', 'indicator', '-valid_from'], 'verbose_name': 'target', 'verbose_name_plural': 'targets'},
        ),
        migrations.RemoveConstraint(
            model_name='target',
            name='target_once_per_indicator',
        ),
        migrations.AddField(
            model_name='target',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='set at'),
        ),
        migrations.AddField(
            model_name='target',
            name='valid_from',
            field=models.DateField(null=True, verbose_name='in force from'),
        ),
        migrations.AddField(
            model_name='target',
            name='valid_until',
            field=models.DateField(null=True, verbose_name='in force until'),
        ),
        # A target set before targets had a window is in force from the day it was last
        # saved (or its deadline, if earlier) to its deadline.
        migrations.RunSQL(
            "UPDATE reports_target SET valid_from = least((updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, deadline), "
            "valid_until = deadline, created_at = updated_at",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='target',
            name='valid_from',
            field=models.DateField(verbose_name='in force from'),
        ),
        migrations.AlterField(
            model_name='target',
            name='valid_until',
            field=models.DateField(verbose_name='in force until'),
        ),
        migrations.AddConstraint(
            model_name='target',
            constraint=models.CheckConstraint(condition=models.Q(('valid_from__lte', models.F('valid_until'))), name='target_window'),
        ),
        migrations.AddConstraint(
            model_name='target',
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(expressions=[('area', '='), ('indicator', '='), (reports.models.DateRange('valid_from', 'valid_until', django.contrib.postgres.fields.ranges.RangeBoundary(inclusive_lower=True, inclusive_upper=True)), '&&')], name='target_one_in_force'),
        ),
        migrations.AddIndex(
            model_name='reportsubmission',
            index=models.Index(fields=['area', 'period_start', 'period_end'], name='submission_area_period'),
        ),
        migrations.AddConstraint(
            model_name='reportsubmission',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'returned'), _negated=True), fields=('area', 'period_start', 'period_end'), name='submission_once_per_period', nulls_distinct=False),
        ),
    ]
