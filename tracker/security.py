"""The client's address, and admin login rate limiting (too many failures per client → 429).

``client_address`` is the one answer to "who is this client?" for every per-client limit: the
admin login, the alerts subscribe form and the API throttle. Login counts live in the Django cache
(use a shared cache such as Redis in production, so every worker and host sees the same counts).
A success clears the username's count.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.admin import AdminSite
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)
View = Callable[..., HttpResponse]


def proxy_hops() -> int:
    """How many trusted reverse proxies are in front of us (``settings.BEHIND_PROXY``; 0 = none)."""
    return max(int(getattr(settings, "BEHIND_PROXY", 0) or 0), 0)


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind N trusted proxies the Nth X-Forwarded-For
    entry from the right.

    Each proxy appends the address it saw, so only the last N entries were written by proxies we
    trust; anything to their left came from the client and is never used. A request carrying fewer
    entries than there are proxies did not come through all of them: it gets ``REMOTE_ADDR`` (the
    nearest proxy), which the client cannot vary. Idempotent: a second call gives the same answer
    even after ``ProxiedClientAddress`` has written the result into ``REMOTE_ADDR``.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = proxy_hops()
    if not hops:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(entries) < hops or not entries[-hops]:
        return remote
    return entries[-hops][:64]


def _limits() -> tuple[int, int]:
    return (
        getattr(settings, "ADMIN_LOGIN_MAX_FAILURES", 5),
        getattr(settings, "ADMIN_LOGIN_WINDOW", 15 * 60),
    )


def _key(scope: str, value: str) -> str:
    return "admin-login:" + hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


def _keys(request: HttpRequest) -> list[str]:
    username = request.POST.get("username", "")[:150].strip().lower()
    keys = [_key("client", client_address(request))]
    if username:
        keys.append(_key("username", username))
    return keys


def login_blocked(request: HttpRequest) -> bool:
    """True when this client or this username has used up its failed attempts."""
    limit, _ = _limits()
    return any((cache.get(key) or 0) >= limit for key in _keys(request))


def login_failed(request: HttpRequest) -> None:
    """Count one failed attempt against the client and the username."""
    _, window = _limits()
    for key in _keys(request):
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window)


def _too_many() -> HttpResponse:
    _, window = _limits()
    response = HttpResponse(
        "<!doctype html><title>Too many attempts</title><h1>Too many login attempts</h1>"
        f"<p>Please wait {window // 60} minutes before trying again.</p>",
        status=429,
    )
    response["Retry-After"] = str(window)
    return response


def rate_limited_login(login: View) -> View:
    """Wrap an admin login view: refuse while blocked, count failures, clear on success."""

    @wraps(login)
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return login(request, *args, **kwargs)
        if login_blocked(request):
            log.warning("admin login blocked for %s", client_address(request))
            return _too_many()
        response = login(request, *args, **kwargs)
        if request.user.is_authenticated and response.status_code in (301, 302, 303):
            cache.delete_many(_keys(request)[1:])
        elif response.status_code != 403:  # a CSRF refusal is not a password guess
            login_failed(request)
        return response

    view.rate_limited = True  # type: ignore[attr-defined]
    return view


def admin_login_rate_limit(site: AdminSite) -> None:
    """Put ``site``'s login view behind the rate limit (idempotent)."""
    if not getattr(site.login, "rate_limited", False):
        site.login = rate_limited_login(site.login)  # type: ignore[method-assign]


class ProxiedClientAddress:
    """Behind trusted proxies (``BEHIND_PROXY``), put ``client_address`` into ``REMOTE_ADDR``.

    So logs, error reports and anything else reading ``REMOTE_ADDR`` see the same client as the
    rate limits; client-written X-Forwarded-For entries are ignored (see ``client_address``).
    """

    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if proxy_hops():
            request.META["REMOTE_ADDR"] = client_address(request)
        return self.get_response(request)
