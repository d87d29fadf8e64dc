"""Free-text search over events' title, summary and body text, with the same meaning everywhere.

PostgreSQL uses a GIN index over a stored generated ``tsvector`` column (``search_vector``,
migrations 0003 and 0006) and SQLite an FTS5 table kept in sync by triggers (migration 0003).
Text is cut into words the same way on both: runs of letters and digits, lower-cased, with no
stemming and no stop words ("simple" configuration, punctuation replaced by spaces before
PostgreSQL's parser sees it). A query matches when every term occurs as a word (a term such as
"face-recognition" as consecutive words) and the last term may also be the beginning of a word
("rekog" finds "Rekognition"). Terms without a letter or digit are ignored. User input never
reaches the query syntax: terms are reduced to words first.

``text_words`` and ``text_matches`` apply the same rules in Python (for in-memory matching).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

MAX_TERMS = 10
WORD = re.compile(r"[^\W_]+")
FTS_TABLE = "tracker_event_fts"
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace(left("
    "title || ' ' || summary || ' ' || body_text, 200000), '[^[:alnum:]]+', ' ', 'g'))"
)


def query_terms(q: str) -> list[tuple[str, ...]]:
    """The searchable terms of ``q``: each a tuple of lower-case words (first ``MAX_TERMS``)."""
    terms = []
    for term in q.split()[:MAX_TERMS]:
        words = tuple(word.lower() for word in WORD.findall(term))
        if words:
            terms.append(words)
    return terms


def text_words(text: str) -> str:
    """``text`` as its words separated by single spaces, with a space at each end."""
    return " " + " ".join(word.lower() for word in WORD.findall(text)) + " "


def text_matches(terms: Sequence[tuple[str, ...]], words: str) -> bool:
    """Whether ``text_words`` output ``words`` matches ``query_terms`` output ``terms``."""
    last = len(terms) - 1
    for index, term in enumerate(terms):
        phrase = " " + " ".join(term) + ("" if index == last else " ")
        if phrase not in words:
            return False
    return True


def fts5_query(terms: Sequence[tuple[str, ...]]) -> str:
    """An FTS5 MATCH expression: quoted phrases joined by AND, the last one a prefix."""
    phrases = ['"' + " ".join(term).replace('"', '""') + '"' for term in terms]
    phrases[-1] += "*"
    return " AND ".join(phrases)


def tsquery(terms: Sequence[tuple[str, ...]]) -> str:
    """A ``to_tsquery`` expression: phrases (<->) joined by &, the last word a prefix (:*)."""
    phrases = [" <-> ".join(f"'{word}'" for word in term) for term in terms]
    phrases[-1] += ":*"
    return " & ".join(f"({phrase})" for phrase in phrases)


SQLITE_OBJECTS = (FTS_TABLE, *(f"{FTS_TABLE}_{suffix}" for suffix in ("ai", "ad", "au")))
SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS tracker_event_fts USING fts5(
        title, summary, body_text, content='tracker_event', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER IF NOT EXISTS tracker_event_fts_ai AFTER INSERT ON tracker_event BEGIN
        INSERT INTO tracker_event_fts(rowid, title, summary, body_text)
        VALUES (new.id, new.title, new.summary, new.body_text); END""",
    """CREATE TRIGGER IF NOT EXISTS tracker_event_fts_ad AFTER DELETE ON tracker_event BEGIN
        INSERT INTO tracker_event_fts(tracker_event_fts, rowid, title, summary, body_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text); END""",
    """CREATE TRIGGER IF NOT EXISTS tracker_event_fts_au
        AFTER UPDATE OF title, summary, body_text ON tracker_event BEGIN
        INSERT INTO tracker_event_fts(tracker_event_fts, rowid, title, summary, body_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text);
        INSERT INTO tracker_event_fts(rowid, title, summary, body_text)
        VALUES (new.id, new.title, new.summary, new.body_text); END""",
    "INSERT INTO tracker_event_fts(tracker_event_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_OBJECTS[1:]),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
SQLITE_SEARCH = "SELECT rowid FROM tracker_event_fts WHERE tracker_event_fts MATCH %s"
PG_MATCH = "search_vector @@ to_tsquery('simple'::regconfig, %s)"
PG_SEARCH = "SELECT id FROM tracker_event WHERE " + PG_MATCH  # noqa: S608 - constants only
PG_EXPRESSION_MATCH = PG_DOCUMENT + " @@ to_tsquery('simple'::regconfig, %s)"
# A stored column, not an index over the expression: GIN keeps no word positions, so a phrase
# ("license plate") is rechecked row by row, which recomputed the tsvector of every candidate
# (220 ms for 22,000 rows); it also lets the planner walk the date index and test each row
# cheaply when a term is common. (A type change of title, summary or body_text must drop and
# re-add the column.)
PG_CREATE = [
    "DROP INDEX IF EXISTS tracker_event_fulltext_idx",
    "ALTER TABLE tracker_event ADD COLUMN IF NOT EXISTS search_vector tsvector"
    f" GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED",
    "CREATE INDEX IF NOT EXISTS tracker_event_search_vector_idx ON tracker_event"
    " USING gin (search_vector)",
]
PG_DROP = [
    "DROP INDEX IF EXISTS tracker_event_search_vector_idx",
    "ALTER TABLE tracker_event DROP COLUMN IF EXISTS search_vector",
]


def index_sql(vendor: str, *, create: bool = True) -> list[str]:
    """The statements that create (or drop) the full-text index on this database vendor."""
    if vendor == "postgresql":
        return PG_CREATE if create else PG_DROP
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    return []


def pg_column_ready(alias: str) -> bool:
    """Whether ``tracker_event.search_vector`` exists (absent when built without migrations;
    the search then computes each event's document instead). Asked on the raw connection."""
    connection = connections[alias]
    connection.ensure_connection()
    found = connection.connection.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'tracker_event'::regclass"
        " AND attname = 'search_vector' AND NOT attisdropped"
    ).fetchone()
    return found is not None


def sqlite_index_ready(alias: str) -> bool:
    """Whether the FTS5 table and its three triggers exist.

    They are absent when the schema was built without migrations, and the triggers vanish when
    Django rebuilds tracker_event to alter it on SQLite (``index_sql`` recreates them). Asked on
    the raw connection so that pinned query counts do not see it.
    """
    connection = connections[alias]
    connection.ensure_connection()
    marks = ",".join("?" * len(SQLITE_OBJECTS))
    (found,) = connection.connection.execute(
        f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})",  # noqa: S608 - constants
        SQLITE_OBJECTS,
    ).fetchone()
    return found == len(SQLITE_OBJECTS)


def search_filter(events: QuerySet, q: str) -> QuerySet:
    """``events`` narrowed to those whose text matches every term of ``q``."""
    terms = query_terms(q)
    if not terms:
        return events
    vendor = connections[events.db].vendor
    if vendor == "postgresql":
        # Unqualified: it names the events' own column whatever alias the query gives them.
        match = PG_MATCH if pg_column_ready(events.db) else PG_EXPRESSION_MATCH
        return events.filter(RawSQL(match, (tsquery(terms),), output_field=BooleanField()))  # noqa: S611
    if vendor == "sqlite" and sqlite_index_ready(events.db):
        return events.filter(pk__in=RawSQL(SQLITE_SEARCH, (fts5_query(terms),)))  # noqa: S611
    return _fallback(events, terms)


def _fallback(events: QuerySet, terms: Sequence[tuple[str, ...]]) -> QuerySet:
    """Without the index: every word of every term as a case-insensitive substring.

    Looser than the indexed search (a word may match inside a longer word); used only where the
    migration did not run (a schema built with ``--no-migrations``) or on another database.
    """
    for term in terms:
        for word in term:
            events = events.filter(
                Q(title__icontains=word) | Q(summary__icontains=word) | Q(body_text__icontains=word)
            )
    return events
