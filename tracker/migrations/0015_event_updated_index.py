"""An index for the API's incremental sync (updated_since, order=updated), and stored export cells
recomputed: the CSV now names each source once and spells external ids as source:id, so cells
stored before would mix the old values with the new (the hourly export_cells_fill task, or
`refresh_export_cells`, stores them again)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracker', '0014_council'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['updated_at', 'id'], name='event_updated_idx'),
        ),
        migrations.RunSQL("DELETE FROM tracker_exportcells", migrations.RunSQL.noop),
    ]
