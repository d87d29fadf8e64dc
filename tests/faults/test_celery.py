"""Celery settings for at-least-once work: late acks, redelivery after a lost worker, a
visibility timeout longer than any task, retries with backoff and jitter, enqueue on commit."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.db import transaction

from tracker import tasks
from tracker.services import scraping


def test_late_acks_and_redelivery_settings():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT, "redelivered only after the task died"
    assert tasks.scrape_source.acks_late and tasks.after_import.acks_late


class Retry(Exception):
    pass


@pytest.mark.django_db
def test_scrape_task_retries_with_backoff_and_jitter():
    down = SimpleNamespace(status="failed", message="usaspending unavailable: HTTP 503")
    countdowns: dict[int, list[float]] = {}
    with (
        mock.patch.object(tasks, "scrape_run", return_value=down),
        mock.patch.object(
            tasks.scrape_source, "retry", side_effect=lambda countdown: Retry(countdown)
        ),
    ):
        for retries in range(4):
            for _ in range(20):
                tasks.scrape_source.push_request(retries=retries)
                try:
                    with pytest.raises(Retry) as raised:
                        tasks.scrape_source.run("usaspending")
                finally:
                    tasks.scrape_source.pop_request()
                countdowns.setdefault(retries, []).append(raised.value.args[0])
    assert tasks.scrape_source.max_retries >= 3
    for retries, values in countdowns.items():
        base = 60 * 2**retries
        assert all(0.5 * base <= value <= 1.5 * base for value in values), (retries, values)
        assert len(set(values)) > 10, "jittered, so workers do not retry in lockstep"
    assert min(countdowns[3]) > max(countdowns[0]), "backs off"


@pytest.mark.django_db(transaction=True)
def test_follow_up_task_is_enqueued_only_after_commit():
    with mock.patch.object(tasks.after_import, "delay") as delay:
        with pytest.raises(RuntimeError), transaction.atomic():
            scraping._after_import([1, 2], [])
            raise RuntimeError("the import's transaction rolls back")
        delay.assert_not_called()
        with transaction.atomic():
            scraping._after_import([3], [7])
            delay.assert_not_called()
        delay.assert_called_once_with([3], [7])
