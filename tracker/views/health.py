"""``/healthz``: is the database reachable, and the broker when one is configured?"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means unhealthy; report it, don't raise
        return f"error: {type(exc).__name__}"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "in-process"
    from tracker.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # any failure means unhealthy; report it, don't raise
        return f"error: {type(exc).__name__}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with each check "ok" (or "in-process"), 503 when any check fails."""
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(not value.startswith("error") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
