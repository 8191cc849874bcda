import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0014_summary_reads_the_counting_rule"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportsubmission",
            name="recorded_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name="recorded at"
            ),
        ),
        # A submission made before keeps its own time: the two clocks agree outside tests.
        migrations.RunSQL("UPDATE reports_reportsubmission SET recorded_at = submitted_at", migrations.RunSQL.noop),
    ]
