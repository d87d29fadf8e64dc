"""Admin login rate limiting: too many failed attempts per client or per username → 429.

Counts live in the Django cache (use a shared cache such as Redis in production, so every
gunicorn worker and host sees the same counts). A success clears the username's count.
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


def _limits() -> tuple[int, int]:
    return (
        getattr(settings, "ADMIN_LOGIN_MAX_FAILURES", 5),
        getattr(settings, "ADMIN_LOGIN_WINDOW", 15 * 60),
    )


def _key(scope: str, value: str) -> str:
    return "admin-login:" + hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


def _keys(request: HttpRequest) -> list[str]:
    username = request.POST.get("username", "")[:150].strip().lower()
    keys = [_key("client", request.META.get("REMOTE_ADDR", ""))]
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
            log.warning("admin login blocked for %s", request.META.get("REMOTE_ADDR", ""))
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
    """Behind our reverse proxy (``BEHIND_PROXY``), the client is the last X-Forwarded-For hop.

    The proxy appends the address it saw; earlier entries come from the client and are ignored,
    so a client cannot pick its own address to dodge the per-client rate limits.
    """

    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if settings.SECURE_PROXY_SSL_HEADER and forwarded:
            request.META["REMOTE_ADDR"] = forwarded.split(",")[-1].strip()[:64]
        return self.get_response(request)
