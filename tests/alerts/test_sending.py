"""Sending: digests by period, one email per alert per period, idempotent retries, pauses."""

from __future__ import annotations

import datetime as dt
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from tests.alerts.conftest import make_event, make_subscription
from tracker.alerts.models import AlertDelivery, AlertMessage, AlertSubscription
from tracker.alerts.sending import LEASE, _reserve, alerts_collect_and_send
from tracker.alerts.services import subscription_pause, subscription_resume

pytestmark = pytest.mark.django_db
LOCMEM = "django.core.mail.backends.locmem.EmailBackend.send_messages"


def tagged_event(**fields):
    """An event that alerts match by default: one with a technology tagged."""
    return make_event(technologies=["face-recognition"], **fields)


def test_daily_digest_is_sent_once_per_period(starter):
    subscription = make_subscription(params={"agency": "dhs"}, frequency="daily")
    yesterday = timezone.now() - dt.timedelta(days=1)
    AlertSubscription.objects.filter(pk=subscription.pk).update(last_checked_at=yesterday)
    first, second = tagged_event(agencies=["ice"]), tagged_event(kind="pitch", agencies=["cbp"])
    tagged_event(agencies=["fbi"])
    now = timezone.now()
    run = alerts_collect_and_send(frequency="daily", now=now)
    assert (run.reserved, run.sent) == (1, 1)
    (digest,) = mail.outbox
    assert "2 new events" in digest.subject
    assert set(AlertDelivery.objects.values_list("event_id", flat=True)) == {first.pk, second.pk}
    tagged_event(agencies=["ice"])
    assert (
        alerts_collect_and_send(frequency="daily", now=now + dt.timedelta(hours=2)).subscriptions
        == 0
    )
    assert alerts_collect_and_send(frequency="weekly", now=now + dt.timedelta(days=1)).sent == 0
    later = alerts_collect_and_send(
        frequency="daily", now=timezone.now() + dt.timedelta(hours=23, minutes=30)
    )
    assert later.sent == 1 and "1 new event " in mail.outbox[1].subject
    subscription.refresh_from_db()
    assert subscription.messages.count() == 2


def test_nothing_matched_nothing_sent(starter):
    make_subscription(params={"agency": "fbi"})
    tagged_event(agencies=["ice"])
    assert alerts_collect_and_send(frequency="immediate", now=timezone.now()).sent == 0
    assert mail.outbox == []


def test_a_vanished_entity_matches_nothing_rather_than_everything(starter):
    make_subscription(params={"vendor": "merged-away"})
    tagged_event(agencies=["ice"])
    alerts_collect_and_send(frequency="immediate", now=timezone.now())
    assert mail.outbox == []


def test_retry_after_a_crash_resends_only_the_reserved_batch(starter):
    make_subscription(params={"agency": "ice"})
    event = tagged_event(agencies=["ice"])
    with (
        mock.patch(LOCMEM, side_effect=ConnectionResetError("worker lost")),
        pytest.raises(OSError),
    ):
        alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="task-1")
    message = AlertMessage.objects.get()
    assert message.status == "pending" and message.claimed_by == "task-1"
    assert list(message.deliveries.values_list("event_id", flat=True)) == [event.pk]
    newer = tagged_event(agencies=["ice"], title="arrived meanwhile")

    # Another run neither steals the fresh claim nor re-reserves its events; it sends its own.
    other = alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="task-2")
    assert other.sent == 1 and "arrived meanwhile" in mail.outbox[0].body
    assert f"/events/{event.pk}/" not in mail.outbox[0].body
    # The retried task (same id) sends exactly the reserved batch, once.
    retry = alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="task-1")
    assert retry.sent == 1 and len(mail.outbox) == 2
    assert (
        f"/events/{event.pk}/" in mail.outbox[1].body
        and "arrived meanwhile" not in mail.outbox[1].body
    )
    assert (
        alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="task-1").sent
        == 0
    )
    assert AlertDelivery.objects.count() == 2 and newer.pk in AlertDelivery.objects.values_list(
        "event_id", flat=True
    )


def test_an_abandoned_batch_is_taken_over_after_the_lease(starter):
    make_subscription(params={"agency": "ice"})
    tagged_event(agencies=["ice"])
    with mock.patch(LOCMEM, side_effect=smtplib.SMTPServerDisconnected()), pytest.raises(OSError):
        alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="lost")
    soon = alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="sweep-1")
    assert soon.sent == 0
    later = timezone.now() + LEASE + dt.timedelta(seconds=1)
    assert alerts_collect_and_send(frequency="immediate", now=later, run_id="sweep-2").sent == 1
    assert len(mail.outbox) == 1


def test_the_crash_window_after_sending_repeats_the_same_message_id(starter, monkeypatch):
    """Documented: a crash after the SMTP hand-off but before marking resends an identical email.

    (Identical but for the unsubscribe link's signing second, held still here: two sends on
    either side of a second boundary made this test fail now and then.)
    """
    from django.core import signing

    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: "1xWV6C")
    make_subscription(params={"agency": "ice"})
    tagged_event(agencies=["ice"])
    alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="task-1")
    AlertMessage.objects.update(status="pending")  # as if the "sent" mark never committed
    alerts_collect_and_send(frequency="immediate", now=timezone.now(), run_id="task-1")
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.body == second.body


def test_an_event_is_reserved_once_even_by_concurrent_runs(starter):
    subscription = make_subscription(params={"agency": "ice"})
    event = tagged_event(agencies=["ice"])
    now = timezone.now()
    assert _reserve(subscription.pk, [event.pk], run_id="a", now=now) is True
    assert _reserve(subscription.pk, [event.pk], run_id="b", now=now) is False
    assert AlertMessage.objects.count() == 1 and AlertDelivery.objects.count() == 1


def test_refused_recipient_fails_one_message_and_the_others_are_sent(starter):
    make_subscription("gone@example.org", params={"agency": "ice"})
    make_subscription("here@example.org", params={"agency": "ice"})
    tagged_event(agencies=["ice"])
    real = mail.backends.locmem.EmailBackend.send_messages

    def refuse(backend, messages):
        if messages[0].to == ["gone@example.org"]:
            raise smtplib.SMTPRecipientsRefused({"gone@example.org": (550, b"no such user")})
        return real(backend, messages)

    with mock.patch(LOCMEM, refuse):
        run = alerts_collect_and_send(frequency="immediate", now=timezone.now())
    assert (run.sent, run.failed) == (1, 1)
    assert [m.to for m in mail.outbox] == [["here@example.org"]]


def test_paused_alerts_skip_what_happened_meanwhile(starter):
    subscription = make_subscription(params={"agency": "ice"})
    subscription_pause(subscription, now=timezone.now())
    tagged_event(agencies=["ice"], title="while paused")
    alerts_collect_and_send(frequency="immediate", now=timezone.now())
    assert mail.outbox == []
    subscription_resume(subscription, now=timezone.now())
    tagged_event(agencies=["ice"], title="after resuming")
    alerts_collect_and_send(frequency="immediate", now=timezone.now())
    (alert,) = mail.outbox
    assert "after resuming" in alert.body and "while paused" not in alert.body


def test_alert_after_import_with_explicit_ids_sends_only_those(
    starter, django_capture_on_commit_callbacks
):
    from tracker.alerts.tasks import alerts_after_import

    make_subscription(params={"agency": "ice"})
    chosen, _other = (
        tagged_event(agencies=["ice"], title="chosen"),
        tagged_event(agencies=["ice"], title="other"),
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        alerts_after_import([chosen.pk, chosen.pk])
    assert len(callbacks) == 1
    (alert,) = mail.outbox
    assert "chosen" in alert.body and "other" not in alert.body
