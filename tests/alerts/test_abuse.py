"""Abuse: rate limits, header injection, no leak of who is subscribed, silence until confirmed."""

from __future__ import annotations

import datetime as dt
import email

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.alerts.conftest import make_event, make_subscription
from tracker.alerts.models import AlertSubscriber, AlertSubscription
from tracker.alerts.sending import alerts_collect_and_send
from tracker.alerts.services import alerts_expire_unconfirmed
from tracker.models import Agency

pytestmark = pytest.mark.django_db
URL = "/alerts/subscribe/?q=rekognition"


def post(email: str, ip: str = "203.0.113.9", url: str = URL):
    return Client(REMOTE_ADDR=ip).post(url, {"email": email, "frequency": "daily"})


def test_client_rate_limit(settings):
    settings.ALERTS_RATE_LIMIT_CLIENT = (2, 3600)
    assert post("a@example.org").status_code == 303
    assert post("b@example.org").status_code == 303
    blocked = post("c@example.org")
    assert blocked.status_code == 429 and blocked["Retry-After"] == "3600"
    assert post("c@example.org", ip="198.51.100.7").status_code == 303
    assert len(mail.outbox) == 3


def test_address_rate_limit_stops_mail_bombing_silently(settings):
    settings.ALERTS_RATE_LIMIT_ADDRESS = (2, 86400)
    answers = [
        post("victim@example.org", ip=f"198.51.100.{n}", url=f"/alerts/subscribe/?q=w{n}")
        for n in range(4)
    ]
    assert {(a.status_code, a["Location"]) for a in answers} == {(303, "/alerts/subscribe/sent/")}
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    "address",
    [
        "a@example.org\r\nBcc: victim@example.org",
        "a@example.org\nBcc: victim@example.org",
        "a@example.org,victim@example.org",
        '"a,b"@example.org',
        "a@example.org; victim@example.org",
        "Name <a@example.org>",
        "x" * 250 + "@example.org",
        "not-an-address",
    ],
)
def test_bad_addresses_are_refused(address):
    response = post(address)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert mail.outbox == []
    assert not AlertSubscriber.objects.exists()


def test_scraped_text_cannot_inject_headers_or_fake_lines(starter):
    ice = Agency.objects.get(slug="ice")
    nul = "\x00" if connection.vendor == "sqlite" else ""  # PostgreSQL refuses NUL outright
    ice.name = f"ICE\r\nBcc: victim@example.org{nul}\u2028X-Evil: 1"
    ice.save()
    post("reader@example.org", url="/alerts/subscribe/?agency=ice")
    assert len(mail.outbox) == 1  # the confirmation
    subscription = AlertSubscription.objects.get()
    assert "\n" not in subscription.label and "\x00" not in subscription.label
    subscription.confirmed_at = subscription.watch_from = timezone.now() - dt.timedelta(minutes=1)
    subscription.frequency = "immediate"
    subscription.save()
    make_event(
        title="Award\r\nBcc: victim@example.org\r\n\r\nfake body",
        agencies=["ice"],
        technologies=["face-recognition"],
    )
    alerts_collect_and_send(frequency="immediate", now=timezone.now())
    alert = mail.outbox[1]
    parsed = email.message_from_bytes(alert.message().as_bytes())
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["To"] == "reader@example.org"
    assert "\r" not in alert.subject and "\n" not in alert.subject and len(alert.subject) < 130
    assert "* 2024-05-01: Award Bcc: victim@example.org fake body\n" in alert.body
    assert alert.recipients() == ["reader@example.org"]


def test_responses_do_not_reveal_whether_an_address_is_subscribed():
    make_subscription("confirmed@example.org", params={"q": "rekognition"}, frequency="daily")
    make_subscription("pending@example.org", params={"q": "rekognition"}, confirmed=False)
    answers = {}
    for address in ("new@example.org", "pending@example.org", "confirmed@example.org"):
        response = post(address)
        page = Client().get(response["Location"])
        answers[address] = (
            response.status_code,
            response["Location"],
            response.content,
            page.status_code,
            page.content,
        )
    assert len(set(answers.values())) == 1
    # Only the mailbox learns the difference: two confirmations and one "already subscribed".
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {
        "new@example.org": "Confirm your Spyglass alert",
        "pending@example.org": "Confirm your Spyglass alert",
        "confirmed@example.org": "You already have this Spyglass alert",
    }
    manage = [
        Client().post("/alerts/manage/", {"email": a}).content
        for a in ("confirmed@example.org", "nobody@example.org")
    ]
    assert manage[0] == manage[1]
    assert [m.to for m in mail.outbox[3:]] == [["confirmed@example.org"]]


def test_an_unconfirmed_address_receives_nothing_but_the_confirmation(starter):
    make_subscription(params={"agency": "ice"}, frequency="immediate", confirmed=False)
    make_subscription("b@example.org", params={"agency": "ice"}, frequency="daily", confirmed=False)
    make_event(agencies=["ice"], technologies=["face-recognition"])
    later = timezone.now() + dt.timedelta(days=8)
    for frequency in ("immediate", "daily", "weekly"):
        alerts_collect_and_send(frequency=frequency, now=later)
    assert mail.outbox == []


def test_unconfirmed_subscriptions_expire():
    now = timezone.now()
    stale = make_subscription("stale@example.org", confirmed=False)
    fresh = make_subscription("fresh@example.org", confirmed=False)
    kept = make_subscription("kept@example.org")
    old = now - dt.timedelta(days=3, minutes=1)
    AlertSubscription.objects.filter(pk__in=[stale.pk, kept.pk]).update(created_at=old)
    AlertSubscriber.objects.filter(email__in=["stale@example.org", "kept@example.org"]).update(
        created_at=old
    )
    assert alerts_expire_unconfirmed(now=now) == 1
    assert set(AlertSubscription.objects.values_list("pk", flat=True)) == {fresh.pk, kept.pk}
    assert not AlertSubscriber.objects.filter(email="stale@example.org").exists()


def test_an_address_whose_last_alert_expired_unconfirmed_is_deleted_too():
    """A confirmed address left with no alert is not kept (the privacy notice says so)."""
    now = timezone.now()
    first = make_subscription("twice@example.org")
    second = make_subscription("twice@example.org", {"q": "drones"}, confirmed=False)
    first.delete()
    old = now - dt.timedelta(days=3, minutes=1)
    AlertSubscription.objects.filter(pk=second.pk).update(created_at=old)
    AlertSubscriber.objects.filter(email="twice@example.org").update(created_at=old)
    assert AlertSubscriber.objects.get(email="twice@example.org").confirmed_at is not None
    assert alerts_expire_unconfirmed(now=now) == 1
    assert not AlertSubscriber.objects.filter(email="twice@example.org").exists()
