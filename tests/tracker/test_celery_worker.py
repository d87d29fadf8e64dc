"""A real Celery worker on Redis runs our tasks against the test database."""

import datetime as dt
import json
import uuid

import pytest
from celery import Celery

from tests.conftest import OWN_FIXTURES, REDIS_URL, require_service
from tests.support.server import Reply, ScriptedServer
from tests.support.worker import Worker, sender, wait_for
from tracker.models import Event, ScrapeRun, SourceRecord
from tracker.services.backfill import backfill_run, backfill_windows
from tracker.services.starter import starter_data_load
from tracker.tasks import backfill_signatures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
JSON = {"Content-Type": "application/json"}


def snapshot():
    """Everything a scrape writes (with the variants each source record keeps), without ids or
    timestamps."""
    return sorted(
        (
            s.source,
            s.external_id,
            tuple(sorted(s.raw["_hashes"])),
            s.event.kind,
            s.event.title,
            str(s.event.amount),
            s.event.date,
            tuple(sorted(s.event.agencies.values_list("slug", flat=True))),
            tuple(sorted(s.event.vendors.values_list("normalized", flat=True))),
            tuple(sorted(s.event.technologies.values_list("slug", flat=True))),
        )
        for s in SourceRecord.objects.exclude(source="curator").select_related("event")
    )


def test_a_real_worker_runs_a_scrape_task():
    require_service("Redis", REDIS_URL)
    starter_data_load()
    replay = str(OWN_FIXTURES / "usaspending")
    with Worker(REDIS_URL) as worker:
        sender(REDIS_URL).send_task(
            "tracker.tasks.scrape_source",
            args=["usaspending", None, None, [replay]],
            queue=worker.queue,
        )
        wait_for(
            lambda: ScrapeRun.objects.filter(
                source="usaspending", finished_at__isnull=False
            ).exists(),
            worker=worker,
        )
    run = ScrapeRun.objects.get(source="usaspending")
    assert run.status == "succeeded", run.errors
    assert run.inserted > 0 and Event.objects.filter(kind="award").exists()


def test_two_workers_share_a_backfill_and_match_a_single_process_run():
    require_service("Redis", REDIS_URL)
    starter_data_load()
    replay = [str(OWN_FIXTURES / "usaspending"), str(OWN_FIXTURES / "fpds")]
    signatures = [
        *backfill_signatures("usaspending", replay=replay[:1]),
        *backfill_signatures("fpds", replay=replay[1:]),
    ]
    assert len(signatures) >= 4
    for signature in signatures:
        signature.apply()  # the single-process run
    single = snapshot()
    SourceRecord.objects.exclude(source="curator").delete()
    Event.objects.exclude(match_key__startswith="story:").delete()
    ScrapeRun.objects.all().delete()

    queue = f"backfill-shared-{uuid.uuid4().hex[:8]}"  # no other run's tasks on it
    app = sender(REDIS_URL)
    with Worker(REDIS_URL, queue=queue) as one, Worker(REDIS_URL, queue=queue) as two:
        for worker in (one, two):
            wait_for(lambda worker=worker: "ready." in worker.output(), worker=worker)
        for signature in signatures:
            app.send_task(signature.task, args=signature.args, queue=queue)
        wait_for(
            lambda: ScrapeRun.objects.filter(finished_at__isnull=False).count() == len(signatures),
            worker=one,
            timeout=120,
        )

        def shares() -> list[int]:
            return [worker.output().count("] succeeded in ") for worker in (one, two)]

        wait_for(lambda: sum(shares()) == len(signatures), worker=one, timeout=30)
    assert snapshot() == single
    assert not ScrapeRun.objects.exclude(status__in=["succeeded", "partial"]).exists()
    assert all(shares()), f"one worker took every task: {shares()}"


def test_a_backfill_runs_its_windows_on_a_real_worker_and_a_rerun_skips_them(own_fixtures):
    require_service("Redis", REDIS_URL)
    starter_data_load()
    page = (own_fixtures / "documentcloud" / "search_rekognition.json").read_bytes()
    windows = backfill_windows(
        source="documentcloud", since=dt.date(2019, 1, 1), until=dt.date(2019, 6, 29)
    )
    assert len(windows) == 2
    broker = Celery("test-backfill", broker=REDIS_URL, backend=REDIS_URL)
    with ScriptedServer() as server:
        server.add("/documents/search/", Reply(body=page, headers=JSON))
        env = {
            "SPYGLASS_SOURCE_URLS": json.dumps({"documentcloud": server.url("/")}),
            "SCRAPER_TRUSTED_HOSTS": server.host,
            "SCRAPER_MIN_INTERVAL": "0",
            "SCRAPER_BACKOFF_BASE": "0.01",
        }
        with Worker(REDIS_URL, env=env) as worker:
            wait_for(lambda: "ready." in worker.output(), worker=worker)
            first = backfill_run(
                source="documentcloud", windows=windows, workers=1, broker=broker,
                queue=worker.queue, poll_seconds=0.2,
            )  # fmt: skip
    # The recorded page carries two malformed results on purpose: each window is partial.
    assert [r.status for r in first.results] == ["partial", "partial"], worker.output()[-3000:]
    assert first.total("inserted") > 0
    assert Event.objects.filter(sources__source="documentcloud").exists()
    again = backfill_run(source="documentcloud", windows=windows, broker=broker)
    assert again.results == [] and again.already_done == windows
