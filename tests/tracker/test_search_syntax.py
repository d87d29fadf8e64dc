"""Search syntax ("phrases", OR, -exclusions) gives the same events on SQLite and PostgreSQL,
in the in-memory alert matcher too, and odd input never raises."""

import random

import pytest

from tests.web import factories
from tracker.alerts.matching import compile_queries, load_event_facts, match_events
from tracker.fulltext import fts5_query, query_terms, text_matches, text_words, tsquery
from tracker.selectors import EventFilters, event_search

pytestmark = pytest.mark.django_db

TEXTS = {
    "lpr": ("License plate readers for Ohio", "ALPR cameras, 2019", ""),
    "armour": ("Plate armour", "a license to operate", ""),
    "rekognition": ("Rekognition pilot", "face-recognition at the border", ""),
    "ring": ("Ring doorbell partnership", "police access to Ring video", ""),
    "drones": ("Drones", "unrelated words: recognizable, or not", ""),
    "stingray": ("Stingray cell-site simulator", "", "a ring of antennas"),
}
EVERYTHING = set(TEXTS)

# Written out by hand: each line is what a reader of the help text expects.
EXPECTED = {
    "license plate": {"lpr", "armour"},
    '"license plate"': {"lpr"},
    '"plate license"': set(),
    '"license plate': {"lpr"},  # an unbalanced quote runs to the end
    '"license pla"': set(),  # a quoted phrase is whole words
    "license pla": {"lpr", "armour"},  # a bare last word may be a beginning
    "alpr OR rekognition": {"lpr", "rekognition"},
    'alpr OR "license plate"': {"lpr"},
    "ohio plate OR armour": {"lpr"},  # OR binds tighter: ohio AND (plate OR armour)
    "plate armour OR readers": {"lpr", "armour"},
    "OR alpr OR": {"lpr"},
    "alpr OR OR drones": {"lpr", "drones"},
    "ring": {"ring", "stingray"},
    "ring -doorbell": {"stingray"},
    'ring -"ring doorbell"': {"stingray"},
    'ring -"doorbell ring"': {"ring", "stingray"},  # not that phrase
    "-ring": EVERYTHING - {"ring", "stingray"},
    "-ring -drones": {"lpr", "armour", "rekognition"},
    "police OR -ring": set(),  # OR next to an exclusion is ignored: police -ring
    'license -"license plate"': {"armour"},
    '--"license plate" plate': {"armour"},
    "-face-recognition": EVERYTHING - {"rekognition"},
    "face-recognition": {"rekognition"},
    "recognition": {"rekognition"},
    "recog": {"rekognition", "drones"},
    '"recog"': set(),
    "recog -": {"rekognition", "drones"},  # a lone dash is ignored
    "recog - drones": set(),  # only the last term may be a beginning
    "or": {"drones"},  # a lower-case "or" is a word
    '"OR"': {"drones"},
    "2019": {"lpr"},
    "antennas": {"stingray"},  # body text counts
    "-antennas": EVERYTHING - {"stingray"},
    "title:license": set(),  # FTS5 column filters are just words
    "license* plate^": {"lpr", "armour"},
    "NEAR(license plate)": set(),
    "AND NOT": set(),
    "(alpr)": {"lpr"},
    "'alpr'": {"lpr"},
    "-": EVERYTHING,
    '"': EVERYTHING,
    '""': EVERYTHING,
    "OR": EVERYTHING,
    "- OR -": EVERYTHING,
    '-"': EVERYTHING,
    "!!! ???": EVERYTHING,
}


@pytest.fixture
def named():
    made = {}
    for name, (title, summary, body) in TEXTS.items():
        made[factories.event(title=title, summary=summary, body_text=body).pk] = name
    return made


def found(named: dict[int, str], q: str) -> set[str]:
    pks = event_search(EventFilters(q=q, all=True)).values_list("pk", flat=True)
    return {named[pk] for pk in pks}


def in_memory(named: dict[int, str], q: str) -> set[str]:
    terms = query_terms(q)
    return {
        name
        for pk, name in named.items()
        if text_matches(terms, text_words("\n".join(TEXTS[name])))
    }


@pytest.mark.parametrize("q", list(EXPECTED))
def test_syntax_finds_what_the_help_text_promises(named, q):
    assert found(named, q) == EXPECTED[q]
    assert in_memory(named, q) == EXPECTED[q]


def test_alerts_match_the_syntax_like_the_timeline(named):
    queries = compile_queries([(i, {"q": q, "all": "1"}) for i, q in enumerate(EXPECTED)])
    matches = match_events(queries, load_event_facts(named))
    for i, q in enumerate(EXPECTED):
        assert {named[pk] for pk in matches.get(i, ())} == EXPECTED[q], q


def test_the_query_languages_are_written_from_words_only():
    terms = query_terms('alpr OR "license plate" -"ring" rekog')
    assert fts5_query(terms) == '(("rekog"*) AND ("alpr" OR "license plate")) NOT ("ring")'
    assert tsquery(terms) == "(('rekog':*)) & (('alpr') | ('license' <-> 'plate')) & !('ring')"
    hostile = query_terms('"a""b\' NEAR/2 c:* d\\" OR ) & | ! <-> ^e * -"f')
    assert hostile == [("a", ""), ("|b near 2 c d |e ",), ("-f ",)]


# Query syntax of SQLite, PostgreSQL and search engines, and words the events contain.
QUERY_PIECES = (
    '" " - -- OR OR or AND NOT NEAR ( ) * : ^ \' \\ ! & | <-> + license plate ring recog'
    " Rekognition alpr 2019 face-recognition ohio doorbell café"
)
PIECES = QUERY_PIECES.split()


@pytest.mark.parametrize("seed", [1, 2])
def test_random_queries_never_fail_and_agree_with_the_in_memory_matcher(named, seed):
    rng = random.Random(seed)
    for _ in range(150):
        pieces = rng.choices(PIECES, k=rng.randint(1, 7))
        q = "".join(p + rng.choice(["", " ", " ", "  "]) for p in pieces)
        assert found(named, q) == in_memory(named, q), q


def test_the_timeline_answers_any_search(client, named):
    for q in ['"unbalanced', "-", "OR", "a OR", '-"', "NEAR(", "x" * 300, "title:*"]:
        response = client.get("/events/", {"q": q})
        assert response.status_code == 200, q
    html = client.get("/events/", {"q": 'ring -"ring doorbell"', "all": "1"}).content.decode()
    assert "Stingray cell-site simulator" in html
    assert "Ring doorbell partnership" not in html
    help_text = html[html.index('id="search-help"') :]
    assert "alpr OR lpr" in help_text and "ring -doorbell" in help_text


def test_only_the_first_terms_count():
    many = " ".join(f"w{i}" for i in range(30))
    assert len(query_terms(many)) == 10
    assert query_terms(many + ' -"x"') == query_terms(many)
