"""Collect new events for due alerts and send each alert at most one email per period.

The guarantee, step by step:

1. Reserve: in one transaction per subscription, an ``AlertMessage`` (unique key, status
   ``pending``, claimed by this run) and one ``AlertDelivery`` per event are inserted.
   ``AlertDelivery`` is unique on (subscription, event) and inserted with ON CONFLICT DO NOTHING,
   so an event is reserved for a subscription once, ever, whatever runs concurrently.
2. Send: the email is rendered from the message's deliveries and handed to the email backend.
3. Mark: the message becomes ``sent``.

A run that dies before step 1 commits leaves nothing behind and the retry starts over. A run that
dies between 1 and 3 leaves ``pending`` messages: the retried Celery task (same task id, which is
the run id) reclaims them at once; any other run takes them over when the claim is older than
``LEASE``. Only the already reserved events are resent, never new ones. The one window left is
a crash after the SMTP server accepted the message and before step 3 commits (milliseconds): the
retry resends the same email with the same ``Message-ID`` (the message key), which mail stores
that deduplicate on Message-ID collapse. So: an event is reserved for a subscription at most
once; a reserved message is retried until one attempt is recorded (at-least-once for the email);
a duplicate email can only come from that window, and is then identical to the first.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from tracker.alerts.emails import email_alert
from tracker.alerts.matching import CHUNK, compile_queries, load_event_facts, match_events
from tracker.alerts.models import AlertDelivery, AlertMessage, AlertSubscription
from tracker.models import Event

log = logging.getLogger(__name__)
Frequency = AlertSubscription.Frequency
PERIODS = {
    Frequency.IMMEDIATE: dt.timedelta(0),
    Frequency.DAILY: dt.timedelta(days=1),
    Frequency.WEEKLY: dt.timedelta(days=7),
}
GRACE = dt.timedelta(hours=1)  # a digest scheduled at 07:00 is due again at 07:00 tomorrow
OVERLAP = dt.timedelta(hours=1)  # re-read events whose import transaction committed late
LEASE = dt.timedelta(minutes=15)  # after this, a pending message may be sent by another run


@dataclass
class AlertRun:
    """What one run did."""

    run_id: str
    subscriptions: int = 0
    events: int = 0
    reserved: int = 0
    sent: int = 0
    failed: int = 0


def subscriptions_due(frequency: str, now: dt.datetime) -> QuerySet[AlertSubscription]:
    """Confirmed, unpaused alerts of ``frequency`` whose period has passed."""
    subscriptions = AlertSubscription.objects.filter(
        frequency=frequency, confirmed_at__isnull=False, paused_at__isnull=True
    )
    period = PERIODS[Frequency(frequency)]
    if period:
        subscriptions = subscriptions.filter(
            Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=now - period + GRACE)
        )
    return subscriptions


def _window_start(subscription: AlertSubscription, *, by_cursor: bool) -> dt.datetime:
    start = subscription.watch_from or subscription.confirmed_at
    assert start is not None  # only confirmed subscriptions are due
    if by_cursor and subscription.last_checked_at:
        start = max(start, subscription.last_checked_at - OVERLAP)
    return start


def _delivered(event_ids: Sequence[int]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(event_ids), CHUNK):
        chunk = event_ids[start : start + CHUNK]
        rows = AlertDelivery.objects.filter(event_id__in=chunk)
        pairs.update(rows.values_list("subscription_id", "event_id"))
    return pairs


def _reserve(
    subscription_id: int, event_ids: Iterable[int], *, run_id: str, now: dt.datetime
) -> bool:
    """Insert the message and its deliveries in one transaction; False if all were taken."""
    with transaction.atomic():
        message = AlertMessage.objects.create(
            key=f"alert-{subscription_id}-{uuid.uuid4().hex}",
            subscription_id=subscription_id,
            claimed_by=run_id,
            claimed_at=now,
        )
        AlertDelivery.objects.bulk_create(
            [AlertDelivery(subscription_id=subscription_id, event_id=e, message=message)
             for e in event_ids],
            ignore_conflicts=True,
        )
        if not message.deliveries.exists():  # a concurrent run reserved them all first
            message.delete()
            return False
    return True


def alerts_collect_and_send(
    *, frequency: str, now: dt.datetime, event_ids: Sequence[int] | None = None, run_id: str = ""
) -> AlertRun:
    """Send every due alert of ``frequency`` one email with its new matching events.

    New events are those created or updated since the alert's last check (or, when
    ``event_ids`` is given, those events), matching its search, not delivered to it before.
    """
    run = AlertRun(run_id=run_id or uuid.uuid4().hex)
    subscriptions = list(subscriptions_due(frequency, now))
    run.subscriptions = len(subscriptions)
    if subscriptions:
        by_cursor = event_ids is None
        starts = {s.pk: _window_start(s, by_cursor=by_cursor) for s in subscriptions}
        if event_ids is None:
            candidates = Event.objects.filter(
                updated_at__gte=min(starts.values()), updated_at__lte=now
            ).values_list("pk", flat=True)
            event_ids = list(candidates)
        facts = load_event_facts(event_ids)
        run.events = len(facts)
        updated_at = {fact.id: fact.updated_at for fact in facts}
        matches = match_events(compile_queries([(s.pk, s.params) for s in subscriptions]), facts)
        delivered = _delivered(sorted({e for ids in matches.values() for e in ids}))
        for sub_id, matched in matches.items():
            fresh = [
                e for e in matched
                if updated_at[e] >= starts[sub_id] and (sub_id, e) not in delivered
            ]
            if fresh and _reserve(sub_id, fresh, run_id=run.run_id, now=now):
                run.reserved += 1
        if by_cursor:
            ids = [s.pk for s in subscriptions]
            for start in range(0, len(ids), CHUNK):
                AlertSubscription.objects.filter(pk__in=ids[start : start + CHUNK]).update(
                    last_checked_at=now
                )
    run.sent, run.failed = alert_messages_send(run_id=run.run_id, now=now)
    log.info("alerts %s: %s", frequency, run)
    return run


def _claim(message: AlertMessage, run_id: str, now: dt.datetime) -> bool:
    """Take over a pending message from a run whose claim lapsed; False if someone else did."""
    if message.claimed_by == run_id:
        return True
    taken = AlertMessage.objects.filter(
        pk=message.pk, status=AlertMessage.Status.PENDING, claimed_by=message.claimed_by
    ).update(claimed_by=run_id, claimed_at=now)
    return taken == 1


def alert_messages_send(*, run_id: str, now: dt.datetime) -> tuple[int, int]:
    """Send the pending messages claimed by this run or abandoned by another; (sent, failed)."""
    pending = (
        AlertMessage.objects.filter(status=AlertMessage.Status.PENDING)
        .filter(Q(claimed_by=run_id) | Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
        .select_related("subscription__subscriber")
        .order_by("pk")
    )
    sent = failed = 0
    with get_connection() as connection:
        for message in pending:
            if not _claim(message, run_id, now):
                continue
            outcome = alert_message_send(message, connection=connection)
            sent += outcome == AlertMessage.Status.SENT
            failed += outcome == AlertMessage.Status.FAILED
    return sent, failed


def alert_message_send(message: AlertMessage, *, connection=None) -> str:
    """Send one reserved message and mark it; network errors propagate so the task retries."""
    rows = AlertMessage.objects.filter(pk=message.pk)
    if not message.subscription.is_active:
        rows.update(status=AlertMessage.Status.CANCELLED)
        return AlertMessage.Status.CANCELLED
    events = list(Event.objects.filter(alert_deliveries__message=message).order_by("-date", "-pk"))
    rows.update(attempts=F("attempts") + 1)
    email = email_alert(message, events)
    email.connection = connection
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        rows.update(status=AlertMessage.Status.FAILED, error=str(error)[:500])
        return AlertMessage.Status.FAILED
    rows.update(status=AlertMessage.Status.SENT, sent_at=timezone.now())
    return AlertMessage.Status.SENT

