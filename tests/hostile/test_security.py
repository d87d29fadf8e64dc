"""Deployment hardening: production headers and cookies, the admin login rate limit,
and ``check --deploy`` passing with production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from tests.hostile import report

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_SSL_REDIRECT": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "DEBUG": False,
    "ALLOWED_HOSTS": ["spyglass.example"],
}
PAGES = [
    "/",
    "/events/",
    "/about/",
    "/alerts/subscribe/",
    "/admin/login/",
    "/api/events/",
    "/events.csv",
    "/events/feed/",
    "/healthz",
]


@override_settings(**PRODUCTION)
def test_every_kind_of_response_carries_the_security_headers(db):
    client = Client(HTTP_HOST="spyglass.example")
    for path in PAGES:
        response = client.get(path, secure=True)
        report.count("inputs")
        assert response.status_code == 200, path
        hsts = response["Strict-Transport-Security"]
        assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
        csp = response["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        for directive in (
            "default-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "script-src 'self'",
        ):
            assert directive in csp, (path, directive)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    plain = client.get("/events/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")


@override_settings(**PRODUCTION)
def test_cookies_are_secure(db):
    User.objects.create_superuser("admin", "admin@example.org", "a-long-passphrase-42")
    client = Client(HTTP_HOST="spyglass.example")
    client.get("/admin/login/", secure=True)
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    response = client.post(
        "/admin/login/",
        {
            "username": "admin",
            "password": "a-long-passphrase-42",
            "csrfmiddlewaretoken": csrf.value,
        },
        secure=True,
        HTTP_REFERER="https://spyglass.example/admin/login/",
    )
    assert response.status_code == 302
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@override_settings(ADMIN_LOGIN_MAX_FAILURES=5, ADMIN_LOGIN_WINDOW=900)
def test_admin_login_is_rate_limited_per_client_and_per_username(db):
    User.objects.create_superuser("admin", "admin@example.org", "a-long-passphrase-42")
    client = Client()
    wrong = {"username": "admin", "password": "guess"}
    statuses = [
        client.post("/admin/login/", wrong, REMOTE_ADDR="203.0.113.1").status_code for _ in range(7)
    ]
    report.count("inputs", 7)
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    # The right password is refused too while blocked, from a new address (username limit).
    right = {"username": "admin", "password": "a-long-passphrase-42"}
    blocked = client.post("/admin/login/", right, REMOTE_ADDR="203.0.113.2")
    assert blocked.status_code == 429 and blocked["Retry-After"] == "900"
    # The same client guessing other usernames is blocked by its address.
    other = client.post(
        "/admin/login/", {"username": "root", "password": "x"}, REMOTE_ADDR="203.0.113.1"
    )
    assert other.status_code == 429
    # Another user from another address can still log in, and a success clears its count.
    User.objects.create_superuser("editor", "editor@example.org", "another-long-passphrase")
    ok = client.post(
        "/admin/login/",
        {"username": "editor", "password": "another-long-passphrase"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert ok.status_code == 302


def test_admin_requires_login(db):
    response = Client().get("/admin/tracker/scraperun/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "SPYGLASS_PRODUCTION": "1",
        "SECRET_KEY": "ci-only-a-long-random-looking-secret-key-value-0123456789abcdef",
        "ALLOWED_HOSTS": "spyglass.example",
        "SECURE_SSL_REDIRECT": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "DEBUG": "0",
    }
    env.pop("SECURE_HSTS_SECONDS", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@override_settings(BEHIND_PROXY=1, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_behind_the_proxy_the_client_cannot_choose_its_address(db):
    client = Client()
    wrong = {"username": "admin", "password": "guess"}
    for n in range(6):
        response = client.post(
            "/admin/login/",
            {**wrong, "username": f"user{n}"},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.5",  # spoofed, then the real hop
        )
    assert response.status_code == 429, "one real client, however it spoofs the header"
    other = client.post(
        "/admin/login/", wrong, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.6"
    )
    assert other.status_code == 200
