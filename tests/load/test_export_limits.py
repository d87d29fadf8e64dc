"""The export limits: 429 past them, and every way a download ends gives its slot back."""

from __future__ import annotations

import gc

import pytest

from tracker.exports import limits as export_limits
from tracker.exports.limits import MAX_PER_CLIENT, MAX_PER_PROCESS, slots

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_open_exports():
    assert not slots.open
    yield
    leaked = dict(slots.open)
    slots.open.clear()
    assert not leaked, f"slots not given back: {leaked}"


def start(client, address: str, path: str = "/events.csv"):
    """A CSV download that has begun (headers sent) and is not read yet."""
    return client.get(path, REMOTE_ADDR=address)


def test_a_client_past_its_limit_gets_a_429_pointing_to_the_bulk_files(client):
    open_ = [start(client, "10.0.0.1") for _ in range(MAX_PER_CLIENT)]
    assert [r.status_code for r in open_] == [200] * MAX_PER_CLIENT
    refused = start(client, "10.0.0.1", "/agencies/ice/events.csv")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(export_limits.RETRY_AFTER)
    text = refused.content.decode()
    assert text.count("\n") == 1 and "/downloads/" in text
    other = start(client, "10.0.0.2")
    assert other.status_code == 200  # another client is not affected
    for response in open_:
        response.close()
    assert slots.open == {"10.0.0.2": 1}
    other.close()


def test_the_process_limit_holds_across_clients(client):
    open_ = [start(client, f"10.0.1.{n}") for n in range(MAX_PER_PROCESS)]
    assert start(client, "10.0.2.1").status_code == 429
    open_[0].close()  # one ends: the next client gets in
    following = start(client, "10.0.2.1")
    assert following.status_code == 200
    for response in [*open_[1:], following]:
        response.close()


def test_a_download_read_to_the_end_gives_its_slot_back(client):
    response = start(client, "10.0.0.1")
    assert slots.open == {"10.0.0.1": 1}
    b"".join(response.streaming_content)  # the test client closes the response at the end
    assert not slots.open


def test_a_download_closed_before_its_first_row_gives_its_slot_back(client):
    response = start(client, "10.0.0.1")
    response.close()  # the client left before a row was sent
    assert not slots.open


def test_a_dropped_response_gives_its_slot_back(client):
    start(client, "10.0.0.1")
    gc.collect()
    assert not slots.open


def test_complete_answers_and_errors_give_their_slot_back_at_once(client, monkeypatch):
    assert client.get("/events.csv?since=2018-13-01").status_code == 400
    assert client.get("/agencies/no-such-agency/events.csv").status_code == 404
    assert client.post("/events.csv").status_code == 405
    assert not slots.open

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("tracker.exports.views.export_rows", broken)
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        client.get("/events.csv")
    assert not slots.open
