"""Free-text search over events' title, summary and body text, with the same meaning everywhere.

PostgreSQL uses a GIN index over a stored generated ``tsvector`` column (``search_vector``,
migrations 0003 and 0006) and SQLite an FTS5 table kept in sync by triggers (migration 0003).
Text is cut into words the same way on both: runs of letters and digits, lower-cased, with no
stemming and no stop words ("simple" configuration, punctuation replaced by spaces before
PostgreSQL's parser sees it).

The query syntax is that of web search engines, read here in Python (``query_terms``) and then
written out for each database, so that both give the same answers and user input never reaches
either database's query syntax (PostgreSQL's ``websearch_to_tsquery`` would read
"face-recognition" as a word the document does not contain, and has no prefix terms):

- words must all occur (``license plate``), a term with punctuation as consecutive words
  (``face-recognition``); the last term, if a bare word, may also be the beginning of a word
  (``rekog`` finds "Rekognition");
- ``"license plate"`` is a phrase of whole words; an unbalanced quote runs to the end;
- ``alpr OR "license plate"`` (``OR`` in capitals, between two terms) matches either, binding
  tighter than the implicit AND: ``ice alpr OR lpr`` is ``ice`` and (``alpr`` or ``lpr``);
- ``-ring`` or ``-"ring doorbell"`` excludes; a query of exclusions only lists everything else.

Anything else degrades: terms without a letter or digit, a lone ``-`` and an ``OR`` that is not
between two search terms (at either end, doubled, or next to an exclusion) are ignored. Only the
first ``MAX_TERMS`` terms count.

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


# A quoted phrase (with any dashes before it), or a run of anything else up to a space or quote.
TOKEN = re.compile(r'(-*)"([^"]*)"?|([^\s"]+)')
OR = "OR"
# How a term that is not a single required phrase is written in ``query_terms`` output: one
# string, its operator first, then phrases separated by "|" ("|alpr |license plate ", "-ring ").
# Neither character occurs in words, so such a term can never be mistaken for text.
ANY, NOT = "|", "-"

Term = tuple[str, ...]
Token = tuple[Term, bool, bool] | None


def _tokens(q: str) -> list[Token]:
    """The first ``MAX_TERMS`` terms of ``q`` as (words, excluded, bare: not quoted), with
    ``None`` for each ``OR``; terms without words are left out."""
    tokens: list[Token] = []
    count = 0
    for match in TOKEN.finditer(q):
        dashes, quoted, bare = match.groups()
        if bare == OR:
            tokens.append(None)
            continue
        words = tuple(word.lower() for word in WORD.findall(bare or quoted))
        if not words:
            continue
        if count == MAX_TERMS:
            break
        count += 1
        tokens.append((words, bool(dashes) or (bare or "").startswith("-"), bare is not None))
    return tokens


def query_terms(q: str) -> list[Term]:
    """The search ``q`` as a list of terms, each a tuple of strings, all of which must hold.

    A term of words is a phrase that must occur: its words in a row, the last one whole when
    it is followed by ``""`` and otherwise the beginning of a word, so ``" " + " ".join(term)``
    occurs in ``text_words`` output exactly when the text contains it. These terms come first
    (an in-memory matcher may pick any of them to narrow its candidates); without any, the
    first term is ``("",)``, which every text contains. Then come the alternatives (``OR``)
    and the exclusions, each one string in the form of ``ANY`` and ``NOT``. No terms: no
    search.
    """
    tokens = _tokens(q)
    last = next((token for token in reversed(tokens) if token), None)
    if last is None:
        return []
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = after_term = False
    for token in tokens:
        if token is None:
            joining = after_term  # an OR joins two search terms, or is ignored
            continue
        words, exclude, bare = token
        phrase = words if token is last and bare and not exclude else (*words, "")
        if exclude:
            excluded.append(phrase)
        elif joining:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        joining, after_term = False, not exclude
    required = [group[0] for group in groups if len(group) == 1]
    return [
        *(required or [("",)]),
        *((ANY + ANY.join(" ".join(p) for p in group),) for group in groups if len(group) > 1),
        *((NOT + " ".join(phrase),) for phrase in excluded),
    ]


def _parts(terms: Sequence[Term]) -> tuple[list[list[Term]], list[Term]]:
    """``terms`` as (alternatives that must each have one phrase present, excluded phrases),
    every phrase a tuple of words followed by ``""`` when its last word is whole."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    for term in terms:
        if len(term) == 1 and term[0][:1] in (ANY, NOT):
            phrases = [tuple(p.split(" ")) for p in term[0][1:].split(ANY)]
            (excluded.extend if term[0][0] == NOT else groups.append)(phrases)
        elif any(term):
            groups.append([term])
    return groups, excluded


def text_words(text: str) -> str:
    """``text`` as its words separated by single spaces, with a space at each end."""
    return " " + " ".join(word.lower() for word in WORD.findall(text)) + " "


def text_matches(terms: Sequence[Term], words: str) -> bool:
    """Whether ``text_words`` output ``words`` matches ``query_terms`` output ``terms``."""
    groups, excluded = _parts(terms)
    return all(any(_contains(words, p) for p in group) for group in groups) and not any(
        _contains(words, phrase) for phrase in excluded
    )


def _contains(words: str, phrase: Term) -> bool:
    return " " + " ".join(phrase) in words


def _words(phrase: Term) -> tuple[list[str], bool]:
    """A phrase's words, and whether its last word may be the beginning of a longer one."""
    return [word for word in phrase if word], phrase[-1] != ""


def _fts5_phrase(phrase: Term) -> str:
    words, prefix = _words(phrase)
    return '"' + " ".join(words).replace('"', '""') + '"' + ("*" if prefix else "")


def fts5_query(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression for the events that match ``terms``: quoted phrases joined by
    AND and OR, and the excluded ones after NOT. Empty when ``terms`` only exclude (FTS5 has
    no NOT alone; ``fts5_excluded`` then gives the events to leave out)."""
    groups, excluded = _parts(terms)
    if not groups:
        return ""
    required = " AND ".join(
        "(" + " OR ".join(_fts5_phrase(p) for p in group) + ")" for group in groups
    )
    return f"({required}) NOT ({fts5_excluded(terms)})" if excluded else required


def fts5_excluded(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression for the events that an exclusion in ``terms`` rejects."""
    return " OR ".join(_fts5_phrase(phrase) for phrase in _parts(terms)[1])


def _ts_phrase(phrase: Term) -> str:
    words, prefix = _words(phrase)
    return "(" + " <-> ".join(f"'{word}'" for word in words) + (":*" if prefix else "") + ")"


def tsquery(terms: Sequence[Term]) -> str:
    """A ``to_tsquery`` expression: phrases (<->, the last word a prefix unless followed by
    ``""``: ``:*``) joined by | and &, the excluded ones after !."""
    groups, excluded = _parts(terms)
    parts = ["(" + " | ".join(_ts_phrase(p) for p in group) + ")" for group in groups]
    parts += [f"!{_ts_phrase(phrase)}" for phrase in excluded]
    return " & ".join(parts)


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
# (the slow part of a phrase search); it also lets the planner walk the date index and test each row
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
    """``events`` narrowed to those whose text matches the search ``q`` (see the module)."""
    terms = query_terms(q)
    if not terms:
        return events
    vendor = connections[events.db].vendor
    if vendor == "postgresql":
        # Unqualified: it names the events' own column whatever alias the query gives them.
        match = PG_MATCH if pg_column_ready(events.db) else PG_EXPRESSION_MATCH
        return events.filter(RawSQL(match, (tsquery(terms),), output_field=BooleanField()))  # noqa: S611
    if vendor == "sqlite" and sqlite_index_ready(events.db):
        if expression := fts5_query(terms):
            return events.filter(pk__in=RawSQL(SQLITE_SEARCH, (expression,)))  # noqa: S611
        return events.exclude(pk__in=RawSQL(SQLITE_SEARCH, (fts5_excluded(terms),)))  # noqa: S611
    return _fallback(events, terms)


def reads_every_match(q: str, alias: str) -> bool:
    """Whether a query searching for ``q`` reads every match before its first row.

    True on SQLite for a search with a term to find: ``search_filter`` makes the FTS5 matches
    an ``IN`` list, whose rows are all read and sorted even for one page. (A search of
    exclusions only, or PostgreSQL's index, lets a page stop early.)
    """
    terms = query_terms(q)
    return (
        connections[alias].vendor == "sqlite"
        and sqlite_index_ready(alias)
        and bool(fts5_query(terms))
    )


def _fallback(events: QuerySet, terms: Sequence[Term]) -> QuerySet:
    """Without the index: in one phrase of each alternative, every word as a case-insensitive
    substring; exclusions are not applied.

    Looser than the indexed search (a word may match inside a longer word, an excluded one
    stays); used only where the migration did not run (a schema built with
    ``--no-migrations``) or on another database.
    """
    for group in _parts(terms)[0]:
        either = Q(pk__in=[])
        for phrase in group:
            every = Q()
            for word in _words(phrase)[0]:
                every &= (
                    Q(title__icontains=word)
                    | Q(summary__icontains=word)
                    | Q(body_text__icontains=word)
                )
            either |= every
        events = events.filter(either)
    return events
