"""The contract actions pitch outcomes count (``ContractAction``), and the triggers that keep them.

A row is one agency link and one vendor link of an award or modification, with the event's
date. A link inserted adds its rows with the other side's links; a link deleted takes its rows
away; an event whose kind or date changes has its rows written again. Triggers, not
application code, so bulk imports, merges, the admin and raw SQL are all covered.

SQLite fires row triggers and has one writer at a time. PostgreSQL fires statement triggers
with transition tables on the link tables, so an import's ``COPY`` of thousands of links is
one ``INSERT`` joined with the new rows. Two transactions adding the two sides of one event
at once would each miss the other's uncommitted link, so the insert first locks the events
concerned (``FOR NO KEY UPDATE``, which the links' own foreign-key checks do not block): the
second waits for the first to commit and then sees its link.
"""

from django.db import migrations, models

ACTIONS = "tracker_contractaction"
COLUMNS = ("agency_link_id", "vendor_link_id", "event_id", "agency_id", "vendor_id", "date")
KINDS = "('award', 'modification')"
# (side, its link table, the other side, the other's link table)
SIDES = (
    ("agency", "tracker_eventagency", "vendor", "tracker_eventvendor"),
    ("vendor", "tracker_eventvendor", "agency", "tracker_eventagency"),
)
INSERT = f"INSERT INTO {ACTIONS} ({', '.join(COLUMNS)})"


def _rows(side, other, new):
    """The SELECT list of the rows a new link ``new`` (of ``side``) makes with links ``o``."""
    values = {
        f"{side}_link_id": f"{new}.id",
        f"{other}_link_id": "o.id",
        "event_id": f"{new}.event_id",
        f"{side}_id": f"{new}.{side}_id",
        f"{other}_id": f"o.{other}_id",
        "date": "e.date",
    }
    return "SELECT " + ", ".join(values[column] for column in COLUMNS)


EVENT_ROWS = (
    f"{INSERT} SELECT ea.id, ev.id, ea.event_id, ea.agency_id, ev.vendor_id, e.date"
    " FROM tracker_event e JOIN tracker_eventagency ea ON ea.event_id = e.id"
    " JOIN tracker_eventvendor ev ON ev.event_id = e.id"
    f" WHERE e.kind IN {KINDS}"
)


def _sqlite_create():
    statements = []
    for side, table, other, other_table in SIDES:
        added = (
            f"{INSERT} {_rows(side, other, 'NEW')} FROM tracker_event e"
            f" JOIN {other_table} o ON o.event_id = e.id"
            f" WHERE e.id = NEW.event_id AND e.kind IN {KINDS};"
        )
        removed = f"DELETE FROM {ACTIONS} WHERE event_id = OLD.event_id AND {side}_link_id = OLD.id;"
        statements += [
            f"CREATE TRIGGER {table}_actions_ins AFTER INSERT ON {table} BEGIN {added} END",
            f"CREATE TRIGGER {table}_actions_del AFTER DELETE ON {table} BEGIN {removed} END",
            f"CREATE TRIGGER {table}_actions_upd AFTER UPDATE OF event_id, {side}_id ON {table}"
            f" BEGIN {removed} {added} END",
        ]
    return statements + [
        "CREATE TRIGGER tracker_event_actions_upd AFTER UPDATE OF kind, date ON tracker_event"
        " WHEN OLD.kind IS NOT NEW.kind OR OLD.date IS NOT NEW.date BEGIN"
        f" DELETE FROM {ACTIONS} WHERE event_id = NEW.id;"
        f" {EVENT_ROWS} AND e.id = NEW.id; END",
        "CREATE TRIGGER tracker_event_actions_del AFTER DELETE ON tracker_event BEGIN"
        f" DELETE FROM {ACTIONS} WHERE event_id = OLD.id; END",
    ]


def _sqlite_drop():
    names = [f"{table}_actions_{op}" for _, table, *_ in SIDES for op in ("ins", "del", "upd")]
    names += ["tracker_event_actions_upd", "tracker_event_actions_del"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def _postgresql_create():
    statements = []
    for side, table, other, other_table in SIDES:
        changed = f"(o.event_id, o.{side}_id) IS DISTINCT FROM (n.event_id, n.{side}_id)"
        moved = f"(SELECT n.* FROM removed o JOIN added n ON n.id = o.id WHERE {changed})"

        def added(rows):
            return (
                f" PERFORM 1 FROM tracker_event WHERE id IN (SELECT event_id FROM {rows} x)"
                " ORDER BY id FOR NO KEY UPDATE;"
                f" {INSERT} {_rows(side, other, 'n')} FROM {rows} n"
                " JOIN tracker_event e ON e.id = n.event_id"
                f" JOIN {other_table} o ON o.event_id = n.event_id WHERE e.kind IN {KINDS};"
            )

        statements += [
            f"CREATE FUNCTION {table}_actions_ins() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {added('added')} RETURN NULL; END $$",
            f"CREATE FUNCTION {table}_actions_del() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN DELETE FROM {ACTIONS} a USING removed r"
            f" WHERE a.event_id = r.event_id AND a.{side}_link_id = r.id; RETURN NULL; END $$",
            f"CREATE FUNCTION {table}_actions_upd() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN DELETE FROM {ACTIONS} a USING removed o JOIN added n ON n.id = o.id"
            f" WHERE {changed} AND a.event_id = o.event_id AND a.{side}_link_id = o.id;"
            f" {added(moved)} RETURN NULL; END $$",
            f"CREATE TRIGGER {table}_actions_ins AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_actions_ins()",
            f"CREATE TRIGGER {table}_actions_del AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_actions_del()",
            f"CREATE TRIGGER {table}_actions_upd AFTER UPDATE ON {table}"
            " REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {table}_actions_upd()",
        ]
    return statements + [
        "CREATE FUNCTION tracker_event_actions_upd() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN DELETE FROM {ACTIONS} WHERE event_id = NEW.id;"
        f" {EVENT_ROWS} AND e.id = NEW.id; RETURN NULL; END $$",
        "CREATE TRIGGER tracker_event_actions_upd AFTER UPDATE OF kind, date ON tracker_event"
        " FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.date IS DISTINCT FROM"
        " NEW.date) EXECUTE FUNCTION tracker_event_actions_upd()",
        "CREATE FUNCTION tracker_event_actions_del() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN DELETE FROM {ACTIONS} a USING removed r WHERE a.event_id = r.id;"
        " RETURN NULL; END $$",
        "CREATE TRIGGER tracker_event_actions_del AFTER DELETE ON tracker_event"
        " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
        " EXECUTE FUNCTION tracker_event_actions_del()",
    ]


def _postgresql_drop():
    names = [f"{table}_actions_{op}" for _, table, *_ in SIDES for op in ("ins", "del", "upd")]
    names += ["tracker_event_actions_upd", "tracker_event_actions_del"]
    return [f"DROP FUNCTION IF EXISTS {name}() CASCADE" for name in names]


def _run(create):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            statements = _sqlite_create() if create else _sqlite_drop()
        elif vendor == "postgresql":
            statements = _postgresql_create() if create else _postgresql_drop()
        else:
            return
        if create:
            statements = [EVENT_ROWS, *statements]
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0015_event_updated_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContractAction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("agency_link_id", models.BigIntegerField()),
                ("vendor_link_id", models.BigIntegerField()),
                ("event_id", models.BigIntegerField(db_index=True)),
                ("agency_id", models.BigIntegerField()),
                ("vendor_id", models.BigIntegerField()),
                ("date", models.DateField(null=True)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["agency_id", "vendor_id", "date", "event_id"],
                        name="contract_action_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(_run(True), _run(False)),
    ]
