"""The whole journey: subscribe with CSRF → confirm → import → one alert → one-click unsubscribe."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.alerts.conftest import SITE, make_event
from tracker.alerts.models import AlertDelivery, AlertSubscription
from tracker.alerts.sending import alerts_collect_and_send
from tracker.alerts.tasks import alerts_after_import

pytestmark = pytest.mark.django_db


def link(message, name: str) -> str:
    """The site-relative path of the /alerts/<name>/ link in an email's text body."""
    found = re.search(rf"{re.escape(SITE)}(/alerts/{name}/[^\s/]+/)", message.body)
    assert found, message.body
    return found.group(1)


def csrf(client: Client) -> str:
    return client.cookies["csrftoken"].value


def import_events(django_capture_on_commit_callbacks, *events) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        alerts_after_import([event.pk for event in events])


def test_subscribe_confirm_alert_unsubscribe(starter, django_capture_on_commit_callbacks):
    browser = Client(enforce_csrf_checks=True)
    url = "/alerts/subscribe/?agency=ice&technology=face-recognition"
    page = browser.get(url)
    assert page.status_code == 200
    assert "Alert me about this search" in page.content.decode()
    assert "involving U.S. Immigration and Customs Enforcement (ICE) (or its sub-agencies)" in (
        page.content.decode()
    )

    refused = browser.post(url, {"email": "reader@example.org", "frequency": "immediate"})
    assert refused.status_code == 403  # no CSRF token, no subscription
    assert not AlertSubscription.objects.exists()

    answer = browser.post(
        url,
        {
            "email": "reader@example.org",
            "frequency": "immediate",
            "csrfmiddlewaretoken": csrf(browser),
        },
    )
    assert answer.status_code == 303 and answer["Location"] == "/alerts/subscribe/sent/"
    assert len(mail.outbox) == 1
    confirmation = mail.outbox[0]
    assert confirmation.to == ["reader@example.org"]
    assert confirmation.subject == "Confirm your Spyglass alert"
    subscription = AlertSubscription.objects.get()
    assert subscription.params == {"agency": "ice", "technology": "face-recognition"}
    assert subscription.frequency == "immediate" and subscription.confirmed_at is None

    # Events before confirmation are never sent, and nothing is sent to an unconfirmed address.
    early = make_event(
        title="Before confirming", agencies=["ice"], technologies=["face-recognition"]
    )
    import_events(django_capture_on_commit_callbacks, early)
    assert len(mail.outbox) == 1

    confirm_path = link(confirmation, "confirm")
    shown = browser.get(confirm_path)
    assert shown.status_code == 200 and "Confirm my alert" in shown.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None  # a GET (a mail scanner) does not confirm
    done = browser.post(confirm_path, {"csrfmiddlewaretoken": csrf(browser)})
    assert done.status_code == 200 and "Your alert is on" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None

    hit = make_event(
        kind="pitch",
        title="Vendor pitches face matching to HSI",
        agencies=["hsi"],
        technologies=["face-recognition"],
    )
    award = make_event(
        kind="award",
        title="ICE buys face search",
        agencies=["ice"],
        technologies=["face-recognition"],
    )
    miss = make_event(
        title="FBI buys face search", agencies=["fbi"], technologies=["face-recognition"]
    )
    import_events(django_capture_on_commit_callbacks, hit, award, miss, early)

    assert len(mail.outbox) == 2
    alert = mail.outbox[1]
    assert alert.to == ["reader@example.org"]
    assert alert.subject.startswith(
        "Spyglass: 2 new events · New events involving U.S. Immigration"
    )
    assert f"{SITE}/events/{hit.pk}/" in alert.body and f"{SITE}/events/{award.pk}/" in alert.body
    assert "FBI buys" not in alert.body and "Before confirming" not in alert.body
    assert alert.body.index("AWARDS") < alert.body.index("ICE buys") < alert.body.index("PITCHES")
    html, mimetype = alert.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="{SITE}/events/{hit.pk}/">Vendor pitches face matching to HSI</a>' in html
    unsubscribe_path = link(alert, "unsubscribe")
    assert alert.extra_headers["List-Unsubscribe"] == f"<{SITE}{unsubscribe_path}>"
    assert alert.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert alert.extra_headers["Message-ID"].startswith(f"<alert-{subscription.pk}-")
    assert set(AlertDelivery.objects.values_list("event_id", flat=True)) == {hit.pk, award.pk}

    # The periodic sweep and a repeated import find nothing new.
    alerts_collect_and_send(frequency="immediate", now=timezone.now())
    import_events(django_capture_on_commit_callbacks, hit, award)
    assert len(mail.outbox) == 2

    # A mail scanner's GET does not unsubscribe; the provider's one-click POST does, without CSRF.
    provider = Client(enforce_csrf_checks=True)
    assert provider.get(unsubscribe_path).status_code == 200
    assert AlertSubscription.objects.filter(pk=subscription.pk).exists()
    one_click = provider.post(
        unsubscribe_path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert not AlertSubscription.objects.exists()
    again = provider.post(
        unsubscribe_path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert again.status_code == 200  # providers may retry

    later = make_event(
        title="ICE face search renewed", agencies=["ice"], technologies=["face-recognition"]
    )
    import_events(django_capture_on_commit_callbacks, later)
    alerts_collect_and_send(frequency="immediate", now=timezone.now())
    assert len(mail.outbox) == 2
