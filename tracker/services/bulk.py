"""The importer's one SQL helper, a statement or two per table and database: new rows in, their
ids back.

Kept because the ``ingest`` benchmark stage misses its floor with ``bulk_create``, which
compiles every value on SQLite and quotes every value into the SQL text on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from django.db import connection, models

MAX_PARAMETERS = 30_000  # below SQLite's 32,766 variables


def rows_insert(objs: Sequence[models.Model]) -> None:
    """Insert ``objs`` (new instances of one model) in this transaction and set their ids.

    PostgreSQL: ids drawn from the table's sequence, then ``COPY`` (rows formatted by the
    driver in C, no planner). SQLite: multi-row ``INSERT … RETURNING``.
    """
    if not objs:
        return
    meta = objs[0]._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    table, columns = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    pk_column = quote(meta.pk.column)
    postgresql = connection.vendor == "postgresql"
    rows = [[_value(field, obj, postgresql) for field in fields] for obj in objs]
    ids: list[int] = []
    if postgresql:
        import psycopg

        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            with cursor.copy(f"COPY {table} ({pk_column}, {columns}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row))
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = MAX_PARAMETERS // len(fields)
        with connection.cursor() as cursor:
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                values = ", ".join([one] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {pk_column}",  # noqa: S608
                    [value for row in chunk for value in row],
                )
                ids += [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def _value(field: models.Field, obj: models.Model, postgresql: bool) -> object:
    value = field.pre_save(obj, add=True)  # (fills auto_now fields)
    if isinstance(field, models.JSONField):
        return orjson.dumps(value, default=str).decode()
    if postgresql:
        return value  # psycopg's COPY takes Python's dates, decimals and None as they are
    return field.get_db_prep_save(value, connection)
