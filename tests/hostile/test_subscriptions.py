"""Subscription abuse through the /alerts/ endpoints: bad and header-injecting addresses,
floods from one client, tampered, replayed and expired tokens, CSRF on every form."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import mail
from django.test import override_settings

from tests.alerts.conftest import make_subscription
from tests.hostile import report
from tests.hostile.conftest import CountingClient
from tracker.alerts.models import AlertSubscriber, AlertSubscription
from tracker.alerts.tokens import confirm_token, manage_token, unsubscribe_token

pytestmark = pytest.mark.django_db
BAD_ADDRESSES = [
    "victim@example.org\r\nBcc: everyone@example.org",
    "victim@example.org\nSubject: hi",
    "victim@example.org%0d%0aBcc:x@example.org",
    "a@example.org, b@example.org",
    "a@example.org;b@example.org",
    '"a@example.org" <b@example.org>',
    "<a@example.org>",
    "a@example.org\x00",
    "a\u200b@example.org",
    "a@example.org\u2028",
    "a@exa mple.org",
    "a@[127.0.0.1]",
    "a" * 300 + "@example.org",
    "@example.org",
    "plainaddress",
    "a@example.org\\",
    "",
    " ",
    "=?utf-8?q?a=0D=0ABcc:x@example.org?=@example.org",
]


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://spyglass.example"


@pytest.mark.parametrize("path", ["/alerts/subscribe/", "/alerts/manage/"])
def test_bad_and_header_injecting_addresses_are_refused(path, web):
    for address in BAD_ADDRESSES:
        response = web.post(
            path,
            {"email": address, "frequency": "daily"},
            REMOTE_ADDR=f"10.0.{len(address) % 250}.{len(mail.outbox)}",
        )
        assert response.status_code == 200, (address, response.status_code)
        assert b'role="alert"' in response.content, address
    assert mail.outbox == []
    assert not AlertSubscriber.objects.exists()


def test_a_flood_from_one_client_is_cut_off(web):
    statuses = [
        web.post(
            "/alerts/subscribe/",
            {"email": f"n{n}@example.org", "frequency": "daily"},
            REMOTE_ADDR="203.0.113.9",
        ).status_code
        for n in range(40)
    ]
    assert statuses.count(303) == 20 and statuses[-1] == 429
    assert len(mail.outbox) == 20
    # Another client is not punished for it.
    other = web.post(
        "/alerts/subscribe/",
        {"email": "x@example.org", "frequency": "daily"},
        REMOTE_ADDR="203.0.113.10",
    )
    assert other.status_code == 303


def test_one_address_is_not_mail_bombed_from_many_clients(web):
    for n in range(30):
        web.post(
            "/alerts/subscribe/?q=term" + str(n),
            {"email": "victim@example.org", "frequency": "daily"},
            REMOTE_ADDR=f"198.51.100.{n}",
        )
    assert len(mail.outbox) <= 5


def _tampered(token: str) -> list[str]:
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    value, _, signature = token.rpartition(":")
    return [
        flipped,
        token[:-1],
        token + "x",
        token.upper(),
        "",
        "x" * 4000,
        f"{value}:",
        f"{value.replace('1', '2', 1)}:{signature}",
        "../" + token,
        token + "\x00",
    ]


def test_tampered_tokens_are_refused(web):
    subscription = make_subscription(confirmed=False)
    good = {
        "confirm": confirm_token(subscription),
        "manage": manage_token(subscription.subscriber),
        "unsubscribe": unsubscribe_token(subscription),
    }
    for kind, token in good.items():
        for bad in _tampered(token):
            for method in ("get", "post"):
                response = getattr(web, method)(f"/alerts/{kind}/{bad}/")
                assert response.status_code in (400, 404), (kind, bad[:40], response.status_code)
    # A token for one purpose does not work for another.
    assert web.post(f"/alerts/confirm/{good['unsubscribe']}/").status_code == 400
    assert web.post(f"/alerts/unsubscribe/{good['confirm']}/").status_code == 400
    assert web.get(f"/alerts/manage/{good['confirm']}/").status_code == 400
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None and AlertSubscription.objects.count() == 1


def test_replayed_tokens_do_no_harm(web):
    subscription = make_subscription(confirmed=False)
    token = confirm_token(subscription)
    assert web.post(f"/alerts/confirm/{token}/").status_code == 200
    first = AlertSubscription.objects.get().confirmed_at
    assert web.post(f"/alerts/confirm/{token}/").status_code == 200
    assert AlertSubscription.objects.get().confirmed_at == first
    old_manage = manage_token(subscription.subscriber)
    web.post(f"/alerts/manage/{old_manage}/", {"action": "reset"})
    assert web.get(f"/alerts/manage/{old_manage}/").status_code == 400, "reset revokes old links"
    subscription.subscriber.refresh_from_db()
    unsubscribe = unsubscribe_token(subscription)
    assert web.post(f"/alerts/unsubscribe/{unsubscribe}/").status_code == 200
    again = web.post(f"/alerts/unsubscribe/{unsubscribe}/")
    assert again.status_code == 200 and b"unsubscribed" in again.content
    assert not AlertSubscription.objects.exists()


def test_expired_confirmation_is_refused(web):
    subscription = make_subscription(confirmed=False)
    token = confirm_token(subscription)
    later = time.time() + 4 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = web.post(f"/alerts/confirm/{token}/")
    assert response.status_code == 400
    assert AlertSubscription.objects.get().confirmed_at is None


@override_settings(ALERTS_RATE_LIMIT_CLIENT=(1000, 3600))
def test_every_form_refuses_a_post_without_csrf(db):
    strict = CountingClient(enforce_csrf_checks=True)
    subscription = make_subscription(confirmed=False)
    forms = [
        "/alerts/subscribe/",
        "/alerts/manage/",
        f"/alerts/confirm/{confirm_token(subscription)}/",
        f"/alerts/manage/{manage_token(subscription.subscriber)}/",
        "/admin/login/",
    ]
    for path in forms:
        response = strict.post(
            path,
            {
                "email": "a@example.org",
                "frequency": "daily",
                "action": "delete",
                "subscription": subscription.pk,
                "username": "x",
                "password": "y",
            },
        )
        assert response.status_code == 403, path
    assert AlertSubscription.objects.get().confirmed_at is None
    assert mail.outbox == []
    # Every form page carries the token, so real visitors can post.
    for path in forms:
        html = strict.get(path).content.decode()
        if "<form" in html and 'method="post"' in html.lower():
            assert "csrfmiddlewaretoken" in html, path
    report.count("inputs", 0)
