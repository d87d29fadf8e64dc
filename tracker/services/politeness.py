"""Politeness that holds across processes and hosts: per-host spacing in Redis, daily quotas.

``scrapers.http.HttpClient`` spaces requests per host with a ``Limiter`` and draws on an
optional ``Quota``. Its defaults hold within one process, which is right for the embedded
setup (one process, Celery eager); with N workers each would be N times too fast. So:

- ``RedisLimiter`` books each host's next free slot in Redis (one Lua script, so the
  read-and-book is atomic; keys expire once the slot has passed). ``shared_limiter()``
  returns one when ``settings.SCRAPER_REDIS_URL`` is set (``CACHE_URL`` when it is Redis,
  else a Redis ``CELERY_BROKER_URL``).
- ``DatabaseQuota`` counts a key's requests per UTC day in ``QuotaUse`` with a conditional
  UPDATE, so repeated runs on one day and runs on several workers share the allowance.
  ``source_quota()`` gives ``sam`` and ``sam_awards`` the one SAM.gov key's quota.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable

import redis
from django.conf import settings
from django.db.models import F

from scrapers.base import SourceUnavailable
from tracker.models import QuotaUse

KEY_PREFIX = "spyglass:politeness:"
# Sources that spend the SAM.gov key's daily allowance (one key, one count).
SAM_SOURCES = ("sam", "sam_awards")

# KEYS[1]: the host's key, holding its next free slot in microseconds of Redis time.
# ARGV[1]: the interval in microseconds. Returns the microseconds to wait for the booked slot.
# Redis's own clock is used so that hosts with skewed clocks still share one schedule.
# Numbers are written with %d: Lua would otherwise format them with 14 significant digits.
RESERVE_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local next_free = slot + tonumber(ARGV[1])
local ttl_ms = math.floor((next_free - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%d', next_free), 'PX', ttl_ms)
return slot - now
"""


class RedisLimiter:
    """A ``scrapers.http.Limiter`` whose slots are shared by every process using one Redis.

    When Redis cannot be reached the request fails (``SourceUnavailable``) rather than going
    out unspaced: the limit is a promise to the source.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = KEY_PREFIX) -> None:
        self.prefix = prefix
        self._reserve = client.register_script(RESERVE_SCRIPT)

    def reserve(self, host: str, interval: float) -> float:
        """Book the next free slot for ``host`` and return the seconds to wait for it."""
        try:
            waited_us = self._reserve(keys=[self.prefix + host], args=[round(interval * 1e6)])
        except redis.RedisError as exc:
            raise SourceUnavailable(f"request spacing needs Redis, which failed: {exc}") from None
        return int(waited_us) / 1e6


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    """One connection pool per URL for the life of the process."""
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def shared_limiter() -> RedisLimiter | None:
    """Return the Redis limiter when ``SCRAPER_REDIS_URL`` is set, else None (in-process)."""
    url = settings.SCRAPER_REDIS_URL
    return RedisLimiter(_redis_client(url)) if url else None


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class DatabaseQuota:
    """A ``scrapers.http.Quota`` of ``limit`` requests per UTC day for ``key``, in the database.

    ``take`` is one conditional UPDATE (``used = used + 1 WHERE used < limit``), atomic on
    SQLite and PostgreSQL, so concurrent processes never spend more than the limit together.
    Inside an outer transaction the count is only seen by others (and only kept) once it
    commits, so callers run it in autocommit, as scrape runs do.
    """

    def __init__(self, *, key: str, limit: int, today: Callable[[], dt.date] = utc_today) -> None:
        self.key = key
        self.limit = limit
        self._today = today

    def take(self) -> bool:
        """Use one request of today's allowance; return False when it is spent."""
        day = self._today()
        QuotaUse.objects.bulk_create([QuotaUse(key=self.key, day=day)], ignore_conflicts=True)
        today = QuotaUse.objects.filter(key=self.key, day=day, used__lt=self.limit)
        return today.update(used=F("used") + 1) == 1

    def left(self) -> int:
        """Return the requests today's allowance still permits."""
        used = (
            QuotaUse.objects.filter(key=self.key, day=self._today())
            .values_list("used", flat=True)
            .first()
        )
        return max(0, self.limit - (used or 0))


def quota_key(name: str, secret: str) -> str:
    """Return a quota key naming ``secret``'s allowance without storing the secret."""
    return f"{name}:{hashlib.sha256(secret.encode()).hexdigest()[:32]}"


def source_quota(source: str) -> DatabaseQuota | None:
    """Return the daily quota a source's requests draw on, or None when it has none."""
    if source not in SAM_SOURCES or not settings.SAM_API_KEY:
        return None
    return DatabaseQuota(key=quota_key("sam", settings.SAM_API_KEY), limit=settings.SAM_DAILY_QUOTA)
