"""PostgreSQL: source payloads are compressed with lz4 instead of pglz, where the server has it.

FPDS payloads (a few KB of JSON) are compressed when stored; lz4 costs the server much less
time at import than pglz, for a similar size. Existing
rows keep their compression until rewritten. Nothing changes on SQLite.
"""

from django.db import migrations

HAS_LZ4 = (
    "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
    " AND 'lz4' = ANY(enumvals)"
)


def compression(method):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(HAS_LZ4)
            if cursor.fetchone() is None:
                return
        schema_editor.execute(
            f"ALTER TABLE tracker_sourcerecord ALTER COLUMN raw SET COMPRESSION {method}"
        )

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0006_postgresql_search_vector"),
    ]

    operations = [migrations.RunPython(compression("lz4"), compression("pglz"))]
