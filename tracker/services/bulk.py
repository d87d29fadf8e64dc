"""The importer's one SQL helper, a statement or two per table and database: new rows in, their
ids back.

Kept because the ``ingest`` benchmark stage misses its floor with ``bulk_create``, which
compiles every value on SQLite and quotes every value into the SQL text on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

MAX_PARAMETERS = 30_000  # below SQLite's 32,766 variables
# Fields whose values SQLite needs Django to convert (dates, times and decimals as text).
ADAPTED = (models.DateField, models.TimeField, models.DecimalField, models.DurationField)


def rows_insert(objs: Sequence[models.Model]) -> None:
    """Insert ``objs`` (new instances of one model) in this transaction and set their ids."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    rows = [[field.pre_save(obj, True) for field in fields] for obj in objs]
    db = connections[DEFAULT_DB_ALIAS]
    ids = values_insert(type(objs[0]), [field.attname for field in fields], rows)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, db.alias


def values_insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Insert ``rows`` (Python values of the fields named by attribute, ``columns``) into
    ``model``'s table in this transaction; their new ids, in order.

    PostgreSQL: ids drawn from the table's sequence, then ``COPY`` (rows formatted by the
    driver in C, no planner). SQLite: multi-row ``INSERT … RETURNING``.
    """
    if not rows:
        return []
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    fields = [by_attname[column] for column in columns]
    db = connections[DEFAULT_DB_ALIAS]  # (the ``connection`` proxy costs a look-up per use)
    quote = db.ops.quote_name
    table, names = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    pk_column = quote(meta.pk.column)
    adapters = [_adapter(field, db) for field in fields]

    def adapted(row: Sequence[Any]) -> list[Any]:
        return [adapt(value) for adapt, value in zip(adapters, row, strict=True)]

    ids: list[int] = []
    if db.vendor == "postgresql":
        import psycopg

        db.ensure_connection()
        with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            with cursor.copy(f"COPY {table} ({pk_column}, {names}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *adapted(row)))
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = MAX_PARAMETERS // len(fields)
        with db.cursor() as cursor:
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                values = ", ".join([one] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} ({names}) VALUES {values} RETURNING {pk_column}",  # noqa: S608
                    [value for row in chunk for value in adapted(row)],
                )
                ids += [row[0] for row in cursor.fetchall()]
    return ids


def _adapter(field: models.Field, db: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """How ``field``'s Python value goes into ``values_insert``'s statement."""
    if isinstance(field, models.JSONField):
        return lambda value: orjson.dumps(value, default=str).decode()
    if db.vendor == "postgresql" or not isinstance(field, ADAPTED):
        return _as_is  # psycopg's COPY and sqlite3 take these Python values as they are
    return lambda value: field.get_db_prep_save(value, db)


def _as_is(value: Any) -> Any:
    return value


class PlannerStatistics:
    """Keeps PostgreSQL's planner statistics of the tables an import writes up to date while a
    bulk load grows them: ``ANALYZE`` once the rows added since the last one outnumber the
    rows the statistics describe (so a few times as a fresh database fills, never later).

    PostgreSQL's documentation asks for ``ANALYZE`` after a bulk load. Autovacuum analyzes a
    table at most about once a minute, while an import into a fresh database doubles its tables
    every few seconds; meanwhile the planner, believing them nearly empty, had each batch's
    look-ups and link triggers scan every row written so far.
    """

    MIN_ROWS = 5_000  # smaller tables are cheap to scan whatever the plan

    def __init__(self, written: Sequence[type[models.Model]]) -> None:
        self.tables = [model._meta.db_table for model in written]
        self.described: float | None = None  # the first table's rows, as its statistics say
        self.added = 0

    def grown(self, rows: int) -> None:
        """Note ``rows`` new rows in the first table; analyze the tables when due."""
        db = connections[DEFAULT_DB_ALIAS]
        if db.vendor != "postgresql" or not rows:
            return
        self.added += rows
        with db.cursor() as cursor:
            if self.described is None:
                self.described = self._described(cursor)
            if self.added < max(self.MIN_ROWS, self.described):
                return
            for table in self.tables:
                cursor.execute(f"ANALYZE {db.ops.quote_name(table)}")
            self.described, self.added = self._described(cursor), 0

    def _described(self, cursor: Any) -> float:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [self.tables[0]])
        return max(0.0, cursor.fetchone()[0])
