"""The export's per-event link cells (``ExportCells``) and the triggers that keep them honest.

A cached row is deleted, never patched: whenever an event's agency, vendor or technology links
or its source records change, or a linked agency, vendor or technology is renamed (or gets a
new slug), the rows of the events concerned go, and the export computes those events' cells
itself until ``refresh_export_cells`` writes them again. Triggers, not application code, so
bulk imports, the admin, merges and raw SQL are all covered.

SQLite fires row triggers. PostgreSQL fires statement triggers with transition tables on the
link and source tables, so an import's ``COPY`` of thousands of links costs one ``DELETE``
joined with the new rows, not one per row (an ``UPDATE`` trigger with transition tables may
not name columns, so the function compares the old and new rows itself).
"""

import django.db.models.deletion
from django.db import migrations, models

CELLS = "tracker_exportcells"
# PostgreSQL: every change the triggers see takes this advisory lock shared until it commits;
# ``tracker.exports.cells`` takes it exclusive while it computes and stores cells (its
# ``CELLS_LOCK``). So a refresh never stores cells computed before a change that committed
# after its trigger ran: either the change waits for the refresh (and its trigger then
# deletes the new row) or the refresh waits for the change (and then sees it).
LOCK = "PERFORM pg_advisory_xact_lock_shared(7310024211);"
# (link table, the columns its cells depend on besides event_id)
LINKS = (
    ("tracker_eventagency", ("agency_id",)),
    ("tracker_eventvendor", ("vendor_id", "role")),
    ("tracker_eventtechnology", ("technology_id",)),
    ("tracker_sourcerecord", ("source", "external_id", "url")),
)
# (entity table, its link table, the link's column, the entity columns the cells show)
ENTITIES = (
    ("tracker_agency", "tracker_eventagency", "agency_id", ("name", "slug")),
    ("tracker_vendor", "tracker_eventvendor", "vendor_id", ("name", "slug")),
    ("tracker_technology", "tracker_eventtechnology", "technology_id", ("name",)),
)


def _changed(columns, old="OLD", new="NEW"):
    return " OR ".join(f"{old}.{c} IS DISTINCT FROM {new}.{c}" for c in columns)


def _sqlite_create():
    statements = []
    for table, columns in LINKS:
        watched = ", ".join(("event_id", *columns))
        forget = f"DELETE FROM {CELLS} WHERE event_id"
        statements += [
            f"CREATE TRIGGER {table}_cells_ins AFTER INSERT ON {table}"
            f" BEGIN {forget} = NEW.event_id; END",
            f"CREATE TRIGGER {table}_cells_del AFTER DELETE ON {table}"
            f" BEGIN {forget} = OLD.event_id; END",
            f"CREATE TRIGGER {table}_cells_upd AFTER UPDATE OF {watched} ON {table}"
            f" BEGIN {forget} IN (OLD.event_id, NEW.event_id); END",
        ]
    for table, link, column, columns in ENTITIES:
        changed = _changed(columns).replace("IS DISTINCT FROM", "IS NOT")
        statements.append(
            f"CREATE TRIGGER {table}_cells_upd AFTER UPDATE OF {', '.join(columns)} ON {table}"
            f" WHEN {changed} BEGIN DELETE FROM {CELLS} WHERE event_id IN"
            f" (SELECT event_id FROM {link} WHERE {column} = NEW.id); END"
        )
    return statements


def _sqlite_drop():
    names = [f"{table}_cells_{op}" for table, _ in LINKS for op in ("ins", "del", "upd")]
    names += [f"{table}_cells_upd" for table, *_ in ENTITIES]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def _postgresql_create():
    statements = []
    for table, columns in LINKS:
        changed = _changed(("event_id", *columns), "o", "n")
        statements += [
            f"CREATE FUNCTION {table}_cells_ins() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {LOCK} DELETE FROM {CELLS} c USING (SELECT DISTINCT event_id FROM added) a"
            " WHERE c.event_id = a.event_id; RETURN NULL; END $$",
            f"CREATE FUNCTION {table}_cells_del() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {LOCK} DELETE FROM {CELLS} c USING (SELECT DISTINCT event_id FROM removed) r"
            " WHERE c.event_id = r.event_id; RETURN NULL; END $$",
            f"CREATE FUNCTION {table}_cells_upd() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {LOCK} DELETE FROM {CELLS} WHERE event_id IN ("
            f"SELECT o.event_id FROM removed o JOIN added n ON n.id = o.id WHERE {changed}"
            f" UNION SELECT n.event_id FROM removed o JOIN added n ON n.id = o.id WHERE {changed}"
            "); RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_cells_ins AFTER INSERT ON {table}"
            f" REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_cells_ins()",
            f"CREATE TRIGGER {table}_cells_del AFTER DELETE ON {table}"
            f" REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_cells_del()",
            f"CREATE TRIGGER {table}_cells_upd AFTER UPDATE ON {table}"
            f" REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_cells_upd()",
        ]
    for table, link, column, columns in ENTITIES:
        statements += [
            f"CREATE FUNCTION {table}_cells_upd() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {LOCK} DELETE FROM {CELLS} WHERE event_id IN"
            f" (SELECT event_id FROM {link} WHERE {column} = NEW.id); RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_cells_upd AFTER UPDATE OF {', '.join(columns)} ON {table}"
            f" FOR EACH ROW WHEN ({_changed(columns)}) EXECUTE FUNCTION {table}_cells_upd()",
        ]
    return statements


def _postgresql_drop():
    tables = [table for table, _ in LINKS]
    statements = [
        f"DROP FUNCTION IF EXISTS {table}_cells_{op}() CASCADE"
        for table in tables
        for op in ("ins", "del", "upd")
    ]
    return statements + [
        f"DROP FUNCTION IF EXISTS {table}_cells_upd() CASCADE" for table, *_ in ENTITIES
    ]


def _run(create):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            statements = _sqlite_create() if create else _sqlite_drop()
        elif vendor == "postgresql":
            statements = _postgresql_create() if create else _postgresql_drop()
        else:
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0007_postgresql_raw_lz4"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportCells",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="export_cells",
                        serialize=False,
                        to="tracker.event",
                    ),
                ),
                ("agencies", models.TextField(blank=True)),
                ("agency_ids", models.TextField(blank=True)),
                ("vendors", models.TextField(blank=True)),
                ("vendor_ids", models.TextField(blank=True)),
                ("technologies", models.TextField(blank=True)),
                ("sources", models.TextField(blank=True)),
                ("source_urls", models.TextField(blank=True)),
                ("external_ids", models.TextField(blank=True)),
                (
                    "agency_pks",
                    models.TextField(blank=True, help_text="Agency ids for the outcome column."),
                ),
                (
                    "pitch_vendor_pks",
                    models.TextField(
                        blank=True,
                        help_text="Ids of vendors in a pitching role, for the outcome column.",
                    ),
                ),
            ],
        ),
        migrations.RunPython(_run(True), _run(False)),
    ]
