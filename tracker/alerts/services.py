"""Subscribing, confirming, managing and unsubscribing; rate limits; expiry of unconfirmed alerts.

Nothing here reveals whether an address is subscribed: ``subscription_request`` answers every
valid request the same way and tells only the mailbox (a confirmation, or "you already have it").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from tracker.alerts.describe import entity_names, filters_describe, header_safe
from tracker.alerts.emails import email_already_subscribed, email_confirmation, email_manage_link
from tracker.alerts.models import AlertSubscriber, AlertSubscription, new_secret
from tracker.alerts.tokens import CONFIRM_MAX_AGE
from tracker.selectors import EventFilters

log = logging.getLogger(__name__)
Frequency = AlertSubscription.Frequency


def _limit(name: str, default: tuple[int, int]) -> tuple[int, int]:
    return tuple(getattr(settings, name, default))  # type: ignore[return-value]


def rate_limit_hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt for ``key``; True once more than ``limit`` happened within ``window`` s."""
    cache_key = "alerts:rate:" + hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()
    if cache.add(cache_key, 1, timeout=window):
        return limit < 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count > limit


def client_rate_limited(client: str) -> bool:
    """True when this client (IP address) made too many subscribe/manage requests."""
    limit, window = _limit("ALERTS_RATE_LIMIT_CLIENT", (20, 3600))
    return rate_limit_hit("client", client, limit=limit, window=window)


def address_rate_limited(email: str) -> bool:
    """True when this address was already sent too many emails it did not ask for by itself."""
    limit, window = _limit("ALERTS_RATE_LIMIT_ADDRESS", (5, 86400))
    return rate_limit_hit("address", email.lower(), limit=limit, window=window)


def email_normalize(email: str) -> str:
    """The address as stored: trimmed and lower-cased (one subscriber per mailbox)."""
    return email.strip().lower()


def params_key(params: dict) -> str:
    """A stable key for a query-string dict, so the same search is one subscription."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def subscription_label(filters: EventFilters) -> str:
    """The words for an alert, stored with it for subjects (sanitised, at most 200 characters)."""
    return header_safe(filters_describe(filters, entity_names([filters])), 200)


def subscription_request(*, email: str, filters: EventFilters, frequency: str) -> str:
    """Record an unconfirmed alert and email the address; returns what was done, for logs only.

    Idempotent per (address, search): asking again resends the confirmation, or, when that
    alert is already confirmed, sends a note with the management link instead.
    """
    email = email_normalize(email)
    if address_rate_limited(email):
        return "rate-limited"
    params = filters.to_params()
    with transaction.atomic():
        subscriber, _ = AlertSubscriber.objects.get_or_create(email=email)
        subscription, created = AlertSubscription.objects.get_or_create(
            subscriber=subscriber,
            params_key=params_key(params),
            defaults={
                "params": params, "label": subscription_label(filters), "frequency": frequency
            },
        )
        unconfirmed = subscription.confirmed_at is None
        if not created and unconfirmed and subscription.frequency != frequency:
            subscription.frequency = frequency
            subscription.save(update_fields=["frequency"])
    if subscription.confirmed_at is not None:
        email_already_subscribed(subscription).send()
        return "already-subscribed"
    email_confirmation(subscription).send()
    return "confirmation-sent"


def subscription_confirm(subscription: AlertSubscription, *, now: dt.datetime) -> None:
    """Confirm an alert: events created or updated from now on are sent. Idempotent."""
    if subscription.confirmed_at is not None:
        return
    subscription.confirmed_at = subscription.watch_from = subscription.last_checked_at = now
    subscription.save(update_fields=["confirmed_at", "watch_from", "last_checked_at"])
    subscriber = subscription.subscriber
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now
        subscriber.save(update_fields=["confirmed_at"])


def subscription_set_frequency(subscription: AlertSubscription, *, frequency: str) -> None:
    """Change how often an alert is sent."""
    subscription.frequency = Frequency(frequency)
    subscription.save(update_fields=["frequency"])


def subscription_pause(subscription: AlertSubscription, *, now: dt.datetime) -> None:
    """Stop sending an alert until it is resumed; events in between are not sent later."""
    if subscription.paused_at is None:
        subscription.paused_at = now
        subscription.save(update_fields=["paused_at"])


def subscription_resume(subscription: AlertSubscription, *, now: dt.datetime) -> None:
    """Send an alert again, for events created or updated from now on."""
    if subscription.paused_at is not None:
        subscription.paused_at = None
        subscription.watch_from = subscription.last_checked_at = now
        subscription.save(update_fields=["paused_at", "watch_from", "last_checked_at"])


def subscription_delete(subscription: AlertSubscription) -> bool:
    """Delete an alert; the address is forgotten with its last alert (returns True then)."""
    subscriber = subscription.subscriber
    with transaction.atomic():
        subscription.delete()
        if not subscriber.subscriptions.exists():
            subscriber.delete()
            return True
    return False


def subscriber_reset_links(subscriber: AlertSubscriber) -> None:
    """Revoke every link sent to this address and email a fresh management link."""
    subscriber.secret = new_secret()
    subscriber.save(update_fields=["secret"])
    email_manage_link(subscriber).send()


def manage_link_request(*, email: str) -> str:
    """Email the management link to an address that has confirmed alerts; silent otherwise."""
    email = email_normalize(email)
    subscriber = AlertSubscriber.objects.filter(
        email=email, subscriptions__confirmed_at__isnull=False
    ).first()
    if subscriber is None:
        return "unknown"
    if address_rate_limited(email):
        return "rate-limited"
    email_manage_link(subscriber).send()
    return "sent"


def alerts_expire_unconfirmed(*, now: dt.datetime) -> int:
    """Delete alerts left unconfirmed past the link's lifetime, and addresses left with none."""
    cutoff = now - CONFIRM_MAX_AGE
    _, per_model = AlertSubscription.objects.filter(
        confirmed_at__isnull=True, created_at__lt=cutoff
    ).delete()
    deleted = per_model.get(AlertSubscription._meta.label, 0)
    AlertSubscriber.objects.filter(subscriptions__isnull=True, created_at__lt=cutoff).delete()
    log.info("alerts: %d unconfirmed subscriptions expired", deleted)
    return deleted
