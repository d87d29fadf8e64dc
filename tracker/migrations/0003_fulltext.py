"""Full-text search index: a GIN tsvector index on PostgreSQL, an FTS5 table on SQLite."""

from django.db import migrations


def create(apps, schema_editor):
    from tracker.fulltext import index_sql

    for statement in index_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    from tracker.fulltext import index_sql

    for statement in index_sql(schema_editor.connection.vendor, create=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0002_alerts"),
    ]

    operations = [migrations.RunPython(create, drop)]
