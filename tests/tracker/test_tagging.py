"""PhraseIndex.find against the plain definition: a phrase occurs as consecutive tokens."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.services.tagging import _TOKEN, PhraseIndex, _stem

PHRASES = ["face recognition", "Rekognition", "license plate reader", "drone", "ICE",
           "cell site simulator", "plate", "AWS Rekognition", "readers"]
WORDS = ["face", "Face", "recognition", "Rekognition", "rekognition", "license", "plate",
         "plates", "reader", "readers", "drones", "drone", "ICE", "ice", "cell", "site",
         "simulator", "AWS", "aws", "the", "class", "-", ",", "42"]


def plain_find(phrases: list[str], text: str) -> set[str]:
    words = _TOKEN.findall(text)
    folded = [_stem(w) for w in words]
    found = set()
    for phrase in phrases:
        parts = _TOKEN.findall(phrase)
        exact = phrase != phrase.lower()
        tokens, wanted = (words, parts) if exact else (folded, [_stem(p) for p in parts])
        if any(tokens[i : i + len(wanted)] == wanted for i in range(len(tokens))):
            found.add(phrase)
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=30))
def test_find_is_the_plain_definition(words):
    index = PhraseIndex()
    for phrase in PHRASES:
        index.add(phrase, phrase)
    text = " ".join(words)
    assert index.find(text) == plain_find(PHRASES, text)


def test_a_phrase_found_twice_or_overlapping_counts_once():
    index = PhraseIndex()
    index.add("plate reader", "alpr")
    index.add("reader", "reader")
    assert index.find("plate plate readers and plate reader") == {"alpr", "reader"}
