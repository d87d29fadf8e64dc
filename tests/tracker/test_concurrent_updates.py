"""Two imports updating one event at once give what one after the other gives (PostgreSQL).

USAspending outranks FPDS: whichever import runs first, the event keeps USAspending's title.
Here the USAspending update holds its transaction open while an FPDS update of the same event
starts; the FPDS import must wait, see the USAspending record, and leave the title alone.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from tests.tracker.test_importer import award
from tracker.models import Event
from tracker.services.importer import Importer, records_import

pytestmark = pytest.mark.django_db(transaction=True)


def fpds(title: str):
    return award(
        source="fpds",
        external_id="70CMSD21F0000012:0",
        title=title,
        url="https://www.fpds.gov/ezsearch/70CMSD21F0000012",
    )


def test_an_update_waits_for_a_concurrent_update_of_the_same_event(starter):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: imports cannot overlap")
    records_import([fpds("FPDS TITLE")])
    locked, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def usaspending_update() -> None:
        try:
            with transaction.atomic():
                importer = Importer()
                importer.add(award(title="USASPENDING TITLE"))
                importer.flush()
                locked.set()
                release.wait(10)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            locked.set()
        finally:
            connections.close_all()

    def fpds_update() -> None:
        try:
            records_import([fpds("FPDS TITLE, AMENDED")])
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=usaspending_update)
    first.start()
    assert locked.wait(10)
    second = threading.Thread(target=fpds_update)
    second.start()
    second.join(1)
    assert second.is_alive(), "the FPDS update did not wait for the USAspending one"
    release.set()
    first.join(10)
    second.join(10)
    assert not failures, failures
    assert Event.objects.get(match_key=award().match_key).title == "USASPENDING TITLE"
