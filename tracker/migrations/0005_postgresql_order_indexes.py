"""PostgreSQL indexes matching the timeline's orders exactly.

The timeline sorts newest first with undated events last (``date DESC NULLS LAST``). On
PostgreSQL a plain descending index puts NULLs first, so it cannot serve that order and every
page sorted all matching rows. SQLite already sorts NULLs last when descending, so its
existing index serves the order and nothing is needed there.
"""

from django.db import migrations

INDEXES = {
    "event_newest_idx": "(date DESC NULLS LAST, id DESC)",
    "event_amount_order_idx": "(amount DESC NULLS LAST, id DESC)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON tracker_event {columns}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tracker", "0004_entity_stats")]

    operations = [migrations.RunPython(create, drop)]
