"""A schema-driven run: arbitrary values for every API parameter never produce a 5xx."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.selectors import EventFilters

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]

EVENT_PARAMS = (*EventFilters.FIELDS, "cursor", "page_size", "updated_since")
ENTITY_PARAMS = ("parent", "q", "level", "page", "page_size")
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
values = st.one_of(
    text,
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.dates().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "",
            "ice",
            "dhs",
            "face-recognition",
            "pitch,award",
            "newest",
            "amount",
            "1e999",
            "-0",
            "NaN",
            "9" * 30,
            "\x00",
            "%00",
            "2018-02-30",
            "eyJ9",
        ]
    ),
)


def query(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, list[str]]]:
    keys = st.one_of(st.sampled_from(names), text.filter(lambda key: key != "format"))
    return st.dictionaries(keys, st.lists(values, min_size=1, max_size=3), max_size=6)


fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_json_and_no_5xx(client, path: str, params: dict) -> None:
    response = client.get(path, data=params, HTTP_ACCEPT="application/json")
    assert response.status_code < 500, (path, params, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), (path, params)
    response.json()


@override_settings(SPYGLASS_API_RATE="100000/min")
@fuzz
@given(params=query(EVENT_PARAMS))
def test_event_list_never_fails(client, starter, params):
    assert_json_and_no_5xx(client, "/api/v1/events/", params)


@override_settings(SPYGLASS_API_RATE="100000/min")
@fuzz
@given(
    kind=st.sampled_from(["agencies", "vendors", "technologies", "sources"]),
    params=query(ENTITY_PARAMS),
)
def test_entity_lists_never_fail(client, starter, kind, params):
    assert_json_and_no_5xx(client, f"/api/v1/{kind}/", params)


@override_settings(SPYGLASS_API_RATE="100000/min")
@fuzz
@given(
    kind=st.sampled_from(["events", "agencies", "vendors", "technologies"]),
    key=st.one_of(text, st.integers(min_value=0, max_value=10**30).map(str)),
)
def test_detail_lookups_never_fail(client, starter, kind, key):
    from urllib.parse import quote

    assert_json_and_no_5xx(client, f"/api/v1/{kind}/{quote(key, safe='')}/", {})
