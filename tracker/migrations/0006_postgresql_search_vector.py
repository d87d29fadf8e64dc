"""PostgreSQL full-text search reads a stored tsvector column instead of an expression index.

See ``tracker.fulltext.PG_CREATE`` for why. Nothing changes on SQLite.
"""

from django.db import migrations

OLD_INDEX = (
    "CREATE INDEX IF NOT EXISTS tracker_event_fulltext_idx ON tracker_event USING gin (({}))"
)


def forward(apps, schema_editor):
    from tracker.fulltext import PG_CREATE

    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_CREATE:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    from tracker.fulltext import PG_DOCUMENT, PG_DROP

    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_DROP:
            schema_editor.execute(statement)
        schema_editor.execute(OLD_INDEX.format(PG_DOCUMENT))


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0005_postgresql_order_indexes"),
    ]

    operations = [migrations.RunPython(forward, backward)]
