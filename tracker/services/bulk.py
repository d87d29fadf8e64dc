"""Multi-row INSERTs without the ORM's per-field overhead, for the importer's hot path.

Values must already be database-ready (use ``json_value``/``datetime_value`` for those
types). The SQL is portable between SQLite (3.35+) and PostgreSQL: ``RETURNING`` and
``ON CONFLICT DO NOTHING`` mean the same on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.db import connection, models

MAX_PARAMETERS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535


def _columns(model: type[models.Model], fields: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(model._meta.get_field(name).column) for name in fields)


def _chunks(rows: Sequence[tuple], width: int) -> list[Sequence[tuple]]:
    size = max(1, MAX_PARAMETERS // max(1, width))
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _unnest_insert(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple], suffix: str
) -> list[tuple]:
    """PostgreSQL: one short statement with one array parameter per column, sent in binary.

    A multi-row ``VALUES`` list with tens of thousands of placeholders is re-parsed by the
    driver on every call; ``unnest`` keeps the statement short and cacheable. The arrays go
    through a server-side-binding cursor in binary (``%b``): Django's client-side binding
    would quote them into the SQL text, escaping every quote of every JSON payload with a
    regular expression (a third of the import time).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    arrays = ", ".join(
        f"%b::{model._meta.get_field(name).db_type(connection)}[]" for name in fields
    )
    columns = [list(column) for column in zip(*rows, strict=True)]
    with _binary_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({_columns(model, fields)}) SELECT * FROM unnest({arrays}) "  # noqa: S608
            f"{suffix}",
            columns,
        )
        return cursor.fetchall() if "RETURNING" in suffix else []


def _copy_insert(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> list[int]:
    """PostgreSQL: take ids from the table's sequence, then ``COPY`` the rows with them.

    ``COPY`` formats rows in the driver's C code and skips the planner; it cannot return
    ids, so they are drawn first (one round trip).
    """
    ids = draw_ids(model, len(rows))
    copy_rows(model, fields, rows, ids)
    return ids


def draw_ids(model: type[models.Model], count: int) -> list[int]:
    """PostgreSQL: ``count`` new ids from the sequence of ``model``'s table."""
    with _binary_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    ids: Sequence[int] | None = None,
) -> None:
    """PostgreSQL: ``COPY`` ``rows`` into ``model``'s table, with ``ids`` (drawn beforehand)
    or the table's default ids."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = _columns(model, fields)
    with _binary_cursor() as cursor:
        if ids is None:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        with cursor.copy(f"COPY {table} (id, {columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))


@contextmanager
def _binary_cursor() -> Iterator[Any]:
    """PostgreSQL: a cursor on Django's connection (same transaction) that binds parameters
    on the server, so ``%b`` sends them in binary. Driver errors come out as Django's
    (``IntegrityError`` …), as from any Django cursor: the importer's retries rely on it."""
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def ids_matching(
    table: str, column: str, values: Sequence[str], *, where: str = "", params: Sequence = ()
) -> list[int]:
    """Ids of the rows of ``table`` whose ``column`` is one of ``values`` (and ``where``).

    ``values`` travel as one parameter (a binary array; JSON text for SQLite's
    ``json_each``), not as thousands of placeholders the ORM prepares one by one.
    ``where`` is a trusted SQL prefix such as ``"source = %s AND "`` with its ``params``.
    """
    if not values:
        return []
    if connection.vendor == "postgresql":
        sql = f"SELECT id FROM {table} WHERE {where}{column} = ANY(%b)"  # noqa: S608
        with _binary_cursor() as cursor:
            cursor.execute(sql, [*params, list(values)])
            return [row[0] for row in cursor.fetchall()]
    sql = f"SELECT id FROM {table} WHERE {where}{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, orjson.dumps(list(values)).decode()])
        return [row[0] for row in cursor.fetchall()]


def insert_returning_ids(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> list[int]:
    """Insert ``rows`` and return their new primary keys, in the order of ``rows``."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy_insert(model, fields, rows)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = _columns(model, fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, len(fields)):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
                "RETURNING id",
                [value for row in chunk for value in row],
            )
            ids += [row[0] for row in cursor.fetchall()]
    return ids


def insert_ignoring_duplicates(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> None:
    """Insert ``rows``, skipping any that a unique constraint already holds."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _unnest_insert(model, fields, rows, "ON CONFLICT DO NOTHING")
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = _columns(model, fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, len(fields)):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                [value for row in chunk for value in row],
            )


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """``UPDATE … SET fields WHERE id = …`` for rows of (*values, id)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        _unnest_update(model, fields, rows)
        return
    assignments = ", ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in fields)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608
            list(rows),
        )


def _unnest_update(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]
) -> None:
    """PostgreSQL: ``update_rows`` as one statement joining one array parameter per column
    (an ``executemany`` sent one ``UPDATE`` per row)."""
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    names = [f"c{index}" for index in range(len(columns))]
    arrays = ", ".join(f"%b::{column.db_type(connection)}[]" for column in columns)
    assignments = ", ".join(
        f"{quote(column.column)} = u.{name}" for column, name in zip(columns, names, strict=True)
    )
    table = quote(model._meta.db_table)
    with _binary_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}, %b::bigint[])"  # noqa: S608
            f" AS u({', '.join(names)}, id) WHERE {table}.id = u.id",
            [list(column) for column in zip(*rows, strict=True)],
        )


def json_value(value: Any) -> str:
    """A JSON field's value ready for the inserts above (JSON text; PostgreSQL casts it)."""
    return orjson.dumps(value, default=str).decode()


def datetime_value(value: dt.datetime) -> Any:
    """An aware datetime ready for this database."""
    return connection.ops.adapt_datetimefield_value(value)
