"""Politeness across processes: per-host spacing in Redis, daily quotas in the database."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import uuid

import pytest
import redis
from django.test import override_settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from scrapers.base import QuotaExhausted, SourceUnavailable
from scrapers.http import HttpClient
from tests.conftest import REDIS_URL, ROOT, require_service
from tests.support.server import Reply, ScriptedServer
from tests.support.worker import database_url
from tracker.models import QuotaUse
from tracker.services.politeness import (
    DatabaseQuota,
    RedisLimiter,
    quota_key,
    shared_limiter,
    source_quota,
)
from tracker.services.scraping import http_client

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def redis_client():
    require_service("Redis", REDIS_URL)
    return redis.Redis.from_url(REDIS_URL)


@pytest.fixture
def limiter(redis_client):
    """A Redis limiter under a key prefix of its own, deleted afterwards."""
    prefix = f"spyglass-test:{uuid.uuid4().hex}:"
    yield RedisLimiter(redis_client, prefix=prefix)
    for key in redis_client.scan_iter(match=f"{prefix}*"):
        redis_client.delete(key)


def client_with(limiter, sleeps, *hosts, **options) -> HttpClient:
    return HttpClient(
        trusted_hosts=hosts, limiter=limiter, sleep=sleeps.append, backoff_base=0.01, **options
    )


# -- spacing per host, shared through Redis ---------------------------------------------


def test_two_clients_share_a_hosts_spacing_through_redis(limiter):
    first_sleeps: list[float] = []
    second_sleeps: list[float] = []
    with ScriptedServer() as one, ScriptedServer() as other:
        one.add("/", Reply(body=b"1"))
        other.add("/", Reply(body=b"2"))
        hosts = (one.host, other.host)
        with (
            client_with(limiter, first_sleeps, *hosts, min_interval=30.0) as first,
            client_with(limiter, second_sleeps, *hosts, min_interval=30.0) as second,
        ):
            first.get(one.url("/"))
            second.get(other.url("/"))
            assert second_sleeps == []  # another host: no wait
            second.get(one.url("/"))
    assert first_sleeps == []
    assert len(second_sleeps) == 1
    assert 29.0 < second_sleeps[0] <= 30.0  # the first client's request was moments ago


def test_redis_limiter_books_consecutive_slots_and_keys_expire(limiter, redis_client):
    assert limiter.reserve("api.example", 10.0) == 0
    second = limiter.reserve("api.example", 10.0)
    third = limiter.reserve("api.example", 10.0)
    assert 9.0 < second <= 10.0
    assert 19.0 < third <= 20.0
    ttl_ms = redis_client.pttl(f"{limiter.prefix}api.example")
    assert 0 < ttl_ms <= 30_001


def test_no_interval_means_no_wait(limiter):
    assert limiter.reserve("api.example", 0) == 0
    assert limiter.reserve("api.example", 0) == 0


def test_unreachable_redis_fails_the_request_instead_of_sending_it_unspaced():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = RedisLimiter(redis.Redis(port=port, retry=Retry(NoBackoff(), 0)))
    with pytest.raises(SourceUnavailable, match="request spacing needs Redis"):
        limiter.reserve("api.example", 1.0)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, ""),
        ({"CELERY_BROKER_URL": "redis://broker:6379/0"}, "redis://broker:6379/0"),
        (
            {"CACHE_URL": "redis://cache:6379/1", "CELERY_BROKER_URL": "redis://broker:6379/0"},
            "redis://cache:6379/1",
        ),
        ({"CELERY_BROKER_URL": "amqp://broker//"}, ""),
    ],
)
def test_the_redis_for_spacing_is_the_cache_else_a_redis_broker(environment, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "CELERY_BROKER_URL")}
    env.update(environment, DJANGO_SETTINGS_MODULE="tracker.settings")
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.SCRAPER_REDIS_URL)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == expected


def test_shared_limiter_only_when_redis_is_configured():
    with override_settings(SCRAPER_REDIS_URL=""):
        assert shared_limiter() is None
    with override_settings(SCRAPER_REDIS_URL=REDIS_URL):
        assert isinstance(shared_limiter(), RedisLimiter)


# -- daily quotas in the database -------------------------------------------------------


@pytest.mark.django_db
def test_two_quota_objects_share_a_days_count():
    first = DatabaseQuota(key="k", limit=3, today=lambda: DAY)
    second = DatabaseQuota(key="k", limit=3, today=lambda: DAY)
    assert first.take()
    assert second.take()
    assert first.left() == second.left() == 1
    assert second.take()
    assert not first.take()
    assert QuotaUse.objects.get(key="k", day=DAY).used == 3


@pytest.mark.django_db
def test_the_next_day_starts_fresh_and_other_keys_are_separate():
    today = DAY
    quota = DatabaseQuota(key="k", limit=1, today=lambda: today)
    assert quota.take()
    assert not quota.take()
    assert DatabaseQuota(key="other", limit=1, today=lambda: today).take()
    today = DAY + dt.timedelta(days=1)
    assert quota.left() == 1
    assert quota.take()


@pytest.mark.django_db
def test_client_with_a_spent_database_quota_sends_nothing():
    DatabaseQuota(key="k", limit=1, today=lambda: DAY).take()
    with (
        ScriptedServer() as server,
        HttpClient(
            trusted_hosts=[server.host],
            min_interval=0,
            quota=DatabaseQuota(key="k", limit=1, today=lambda: DAY),
        ) as client,
    ):
        assert client.quota_left() == 0
        with pytest.raises(QuotaExhausted):
            client.get(server.url("/"))
        assert server.requests == []


@pytest.mark.django_db
def test_retries_spend_the_database_quota():
    with (
        ScriptedServer() as server,
        HttpClient(
            trusted_hosts=[server.host],
            min_interval=0,
            sleep=lambda seconds: None,
            quota=DatabaseQuota(key="k", limit=10, today=lambda: DAY),
        ) as client,
    ):
        server.add("/", Reply(status=429, headers={"Retry-After": "1"}), Reply(body=b"ok"))
        client.get(server.url("/"))
        assert len(server.requests) == 2
        assert client.quota_left() == 8


SPEND = """
import sys, django
django.setup()
from tracker.services.politeness import DatabaseQuota
quota = DatabaseQuota(key=sys.argv[1], limit=int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
print(sum(quota.take() for _ in range(int(sys.argv[3]))))
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_never_overspend_the_database_quota():
    key, limit, attempts = f"race-{uuid.uuid4().hex[:8]}", 300, 200
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
    }
    spenders = [
        subprocess.Popen(
            [sys.executable, "-c", SPEND, key, str(limit), str(attempts)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for spender in spenders:  # both are set up before either spends
        assert spender.stdout.readline() == "ready\n"
    for spender in spenders:
        spender.stdin.write("go\n")
        spender.stdin.flush()
    taken = [int(spender.communicate(timeout=120)[0]) for spender in spenders]
    assert all(spender.returncode == 0 for spender in spenders)
    assert sum(taken) == limit
    assert QuotaUse.objects.get(key=key).used == limit


# -- what each source gets ------------------------------------------------------------------


@override_settings(SAM_API_KEY="sam-secret-key", SAM_DAILY_QUOTA=7)
def test_both_sam_sources_share_one_quota_named_without_the_key():
    sam, awards = source_quota("sam"), source_quota("sam_awards")
    assert sam is not None and awards is not None
    assert sam.key == awards.key == quota_key("sam", "sam-secret-key")
    assert "sam-secret-key" not in sam.key
    assert sam.limit == 7
    assert source_quota("lda") is None
    with override_settings(SAM_API_KEY=""):
        assert source_quota("sam") is None


@pytest.mark.django_db
@override_settings(SAM_API_KEY="sam-secret-key", SAM_DAILY_QUOTA=7, SCRAPER_REDIS_URL="")
def test_http_client_for_sam_reports_the_days_quota():
    assert http_client("sam").quota_left() == 7
    assert http_client("lda").quota_left() is None
