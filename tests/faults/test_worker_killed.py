"""A real Celery worker SIGKILLed mid-task: the broker redelivers the unacknowledged task to a
new worker after the visibility timeout, and the database converges to a clean run's."""

from __future__ import annotations

import json
import time

import pytest
from kombu import Connection

from tests.conftest import REDIS_URL, require_service
from tests.faults import harness
from tests.hostile import report
from tests.support.worker import Worker, sender, wait_for

pytestmark = pytest.mark.services


def redeliver_after_visibility_timeout(queue: str, *, seconds: float) -> None:
    """Do what the broker's periodic sweep does once the visibility timeout has passed.

    kombu's Redis transport restores unacknowledged messages older than the visibility timeout
    in a sweep that runs only every ~100 s; this runs that restore now, for our queue only (other
    tests may share the broker). The message must still be unacknowledged: ``acks_late``.
    """
    with Connection(REDIS_URL) as connection:
        channel = connection.default_channel
        unacked = {
            tag: json.loads(value)
            for tag, value in channel.client.hgetall(channel.unacked_key).items()
        }
        ours = [tag for tag, (_, _, routing_key) in unacked.items() if routing_key == queue]
        assert len(ours) == 1, "the killed worker's task is still unacknowledged"
        time.sleep(seconds)
        channel.qos.restore_by_tag(ours[0], leftmost=True)


def test_worker_killed_mid_scrape_task_is_redelivered_and_converges(
    pages, sqlite_template, tmp_path
):
    require_service("Redis", REDIS_URL)
    reference = harness.sqlite_copy(sqlite_template, tmp_path / "clean.sqlite3")
    code, output = harness.run_to_end(
        reference.url, "scrape", "usaspending", "--replay", str(pages["usaspending"])
    )
    assert code == 0, output
    clean = reference.snapshot()

    scratch = harness.sqlite_copy(sqlite_template, tmp_path / "worker.sqlite3")
    baseline = scratch.baseline()
    env = {
        "DATABASE_URL": scratch.url,
        "CELERY_BROKER_VISIBILITY_TIMEOUT": "5",
        "IMPORT_BATCH_SIZE": str(harness.BATCH),
        "LOG_LEVEL": "WARNING",
    }

    def imported() -> int:
        return int(
            scratch.query("SELECT count(*) FROM tracker_sourcerecord WHERE source = 'usaspending'")[
                0
            ][0]
        )

    first = Worker(REDIS_URL, env=env)
    with first:
        wait_for(lambda: "ready." in first.output(), worker=first)
        sender(REDIS_URL).send_task(
            "tracker.tasks.scrape_source",
            args=["usaspending", None, None, [str(pages["usaspending"])]],
            queue=first.queue,
        )
        assert harness.wait_until(lambda: imported() >= 3 * harness.BATCH, timeout=60), (
            first.output()[-2000:]
        )
    report.count("kills")
    report.count("inputs")
    assert 0 < imported() < harness.EVENTS, "killed mid-task"
    assert scratch.problems(baseline) == []
    redeliver_after_visibility_timeout(first.queue, seconds=5)

    def finished() -> bool:
        return bool(
            scratch.query("SELECT count(*) FROM tracker_scraperun WHERE status = 'succeeded'")[0][0]
            != "0"
        )

    with Worker(REDIS_URL, queue=first.queue, env=env) as second:
        assert harness.wait_until(finished, timeout=90), second.output()[-3000:]
    lost, extra = harness.difference(clean, scratch.snapshot())
    report.count("rows_lost", lost)
    report.count("rows_duplicated", extra)
    assert (lost, extra) == (0, 0)
