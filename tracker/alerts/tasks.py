"""Celery tasks for alerts: thin doors onto ``tracker.alerts.sending`` and ``services``.

The task id is the run id, so a task redelivered after a lost worker (``acks_late``) or retried
after a network error reclaims the messages it had reserved and sends only those again.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from tracker.alerts.models import AlertSubscription
from tracker.alerts.sending import alerts_collect_and_send
from tracker.alerts.services import alerts_expire_unconfirmed

NETWORK_ERRORS = (OSError,)  # smtplib.SMTPException, ConnectionError and socket timeouts
RETRY = {
    "acks_late": True,
    "autoretry_for": NETWORK_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 8,
}
IMPORT_TASK_CHUNK = 5000


@shared_task(bind=True, name="tracker.alerts.tasks.alerts_send_immediate", **RETRY)
def alerts_send_immediate(self, event_ids: list[int]) -> dict:
    """Send immediate alerts for these just-imported events."""
    run = alerts_collect_and_send(
        frequency="immediate", now=timezone.now(), event_ids=event_ids, run_id=self.request.id or ""
    )
    return asdict(run)


@shared_task(bind=True, name="tracker.alerts.tasks.alerts_send_due", **RETRY)
def alerts_send_due(self, frequency: str) -> dict:
    """Send the due alerts of one frequency (daily/weekly digests, or the immediate sweep)."""
    run = alerts_collect_and_send(
        frequency=frequency, now=timezone.now(), run_id=self.request.id or ""
    )
    return asdict(run)


@shared_task(name="tracker.alerts.tasks.alerts_expire_unconfirmed", acks_late=True)
def alerts_expire_unconfirmed_task() -> int:
    """Delete alerts that were never confirmed."""
    return alerts_expire_unconfirmed(now=timezone.now())


def alerts_after_import(event_ids: list[int]) -> None:
    """After an import commits, queue immediate alerts for these inserted or updated events."""
    ids = sorted({int(event_id) for event_id in event_ids})
    if not ids:
        return
    active = AlertSubscription.objects.filter(
        frequency=AlertSubscription.Frequency.IMMEDIATE,
        confirmed_at__isnull=False,
        paused_at__isnull=True,
    )
    if not active.exists():
        return
    for start in range(0, len(ids), IMPORT_TASK_CHUNK):
        chunk = ids[start : start + IMPORT_TASK_CHUNK]
        transaction.on_commit(lambda chunk=chunk: alerts_send_immediate.delay(chunk), robust=True)
