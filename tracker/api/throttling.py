"""The API's per-client rate limit, keyed on ``client_address`` (never the raw X-Forwarded-For)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tracker.security import client_address

DEFAULT_RATE = "120/min"


class ApiRateThrottle(SimpleRateThrottle):
    """Per-client rate limit; the rate is ``settings.SPYGLASS_API_RATE`` (default 120/min).

    DRF's own ``get_ident`` keys on the whole X-Forwarded-For header when ``NUM_PROXIES`` is unset,
    so a client that changes the header on every request gets a fresh budget each time. Here the
    client is whoever ``client_address`` says it is, the same as for the admin login and alerts.
    """

    scope = "spyglass_api"

    def get_rate(self) -> str:
        return getattr(settings, "SPYGLASS_API_RATE", DEFAULT_RATE)

    def get_ident(self, request: Request) -> str:
        return client_address(request._request)

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
