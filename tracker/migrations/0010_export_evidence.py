"""The CSV's technology_evidence cell is stored with the other export cells, and a technology
link's evidence and tagged_by become what its triggers watch besides its event and technology.

Stored cells are deleted (they have no evidence cell yet); ``refresh_export_cells`` and the
hourly fill write them again, and the export computes the missing ones meanwhile.

SQLite rebuilds a table to add a NOT NULL column and refuses to rename the rebuilt table
while a trigger names a table it cannot see, so every cell trigger of migration 0008 is
dropped first and created again after (which also restores the technology link's triggers,
which go with the table when migration 0009 rebuilds it). PostgreSQL adds the column in
place; only the link's update function changes (its statement trigger names no columns).
"""

from importlib import import_module

from django.db import migrations, models

cells_0008 = import_module("tracker.migrations.0008_export_cells")

TABLE = "tracker_eventtechnology"
WATCHED_0008 = ("technology_id",)
WATCHED = ("technology_id", "tagged_by", "evidence")


def _sqlite_update_trigger(columns):
    watched = ("event_id", *columns)
    changed = cells_0008._changed(watched).replace("IS DISTINCT FROM", "IS NOT")
    return (
        f"CREATE TRIGGER {TABLE}_cells_upd AFTER UPDATE OF {', '.join(watched)} ON {TABLE}"
        f" WHEN {changed} BEGIN DELETE FROM {cells_0008.CELLS}"
        " WHERE event_id IN (OLD.event_id, NEW.event_id); END"
    )


def _postgresql_update_function(columns):
    changed = cells_0008._changed(("event_id", *columns), "o", "n")
    return (
        f"CREATE OR REPLACE FUNCTION {TABLE}_cells_upd() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN {cells_0008.LOCK} DELETE FROM {cells_0008.CELLS} WHERE event_id IN ("
        f"SELECT o.event_id FROM removed o JOIN added n ON n.id = o.id WHERE {changed}"
        f" UNION SELECT n.event_id FROM removed o JOIN added n ON n.id = o.id WHERE {changed}"
        "); RETURN NULL; END $$"
    )


def _before(apps, schema_editor):
    """Forget every stored cell; on SQLite, drop the triggers before the table is rebuilt."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in cells_0008._sqlite_drop():
            schema_editor.execute(statement)
    schema_editor.execute(f"DELETE FROM {cells_0008.CELLS}")


def _triggers(columns):
    def create(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            update = f"CREATE TRIGGER {TABLE}_cells_upd "
            for statement in cells_0008._sqlite_create():
                if not statement.startswith(update):
                    schema_editor.execute(statement)
            schema_editor.execute(_sqlite_update_trigger(columns))
        elif vendor == "postgresql":
            schema_editor.execute(_postgresql_update_function(columns))

    return create


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0009_tagging_evidence"),
    ]

    operations = [
        migrations.RunPython(_before, _triggers(WATCHED_0008)),
        migrations.AddField(
            model_name="exportcells",
            name="technology_evidence",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(_triggers(WATCHED), _before),
    ]
