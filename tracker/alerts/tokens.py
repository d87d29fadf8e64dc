"""Signed links for alerts: confirm, manage and unsubscribe, each with its own salt.

A token binds the object id, a digest of the email address and the subscriber's secret nonce, so
it cannot be replayed for another address and every token of an address is revoked by rotating
that address's secret. Confirmation links expire; management and unsubscribe links do not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.core import signing

from tracker.alerts.models import AlertSubscriber, AlertSubscription

CONFIRM_SALT = "alerts.confirm"
MANAGE_SALT = "alerts.manage"
UNSUBSCRIBE_SALT = "alerts.unsubscribe"
CONFIRM_MAX_AGE = dt.timedelta(days=3)


class BadToken(Exception):
    """The link is forged, expired, revoked or bound to another address."""


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def _make(salt: str, pk: int, subscriber: AlertSubscriber) -> str:
    return signing.dumps([pk, _email_digest(subscriber.email), subscriber.secret], salt=salt)


def _read(token: str, salt: str, max_age: dt.timedelta | None) -> tuple[int, str, str]:
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
        pk, digest, secret = payload
        return int(pk), str(digest), str(secret)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadToken(str(error)) from error


def _bound(subscriber: AlertSubscriber, digest: str, secret: str) -> bool:
    return hmac.compare_digest(_email_digest(subscriber.email), digest) and hmac.compare_digest(
        subscriber.secret, secret
    )


def confirm_token(subscription: AlertSubscription) -> str:
    """A link token confirming one subscription; valid for ``CONFIRM_MAX_AGE``."""
    return _make(CONFIRM_SALT, subscription.pk, subscription.subscriber)


def manage_token(subscriber: AlertSubscriber) -> str:
    """A long-lived token for the page listing an address's subscriptions."""
    return _make(MANAGE_SALT, subscriber.pk, subscriber)


def unsubscribe_token(subscription: AlertSubscription) -> str:
    """A long-lived token that removes one subscription."""
    return _make(UNSUBSCRIBE_SALT, subscription.pk, subscription.subscriber)


def _subscription(token: str, salt: str, max_age: dt.timedelta | None) -> AlertSubscription:
    pk, digest, secret = _read(token, salt, max_age)
    subscription = (
        AlertSubscription.objects.select_related("subscriber").filter(pk=pk).first()
    )
    if subscription is None or not _bound(subscription.subscriber, digest, secret):
        raise BadToken("no such subscription for this address")
    return subscription


def confirm_token_check(token: str) -> AlertSubscription:
    """The subscription a confirmation token names; raises BadToken otherwise."""
    return _subscription(token, CONFIRM_SALT, CONFIRM_MAX_AGE)


def unsubscribe_token_check(token: str) -> AlertSubscription:
    """The subscription an unsubscribe token names; raises BadToken otherwise."""
    return _subscription(token, UNSUBSCRIBE_SALT, None)


def unsubscribe_token_gone(token: str) -> bool:
    """True when we signed this unsubscribe token and its subscription no longer exists."""
    try:
        pk, _, _ = _read(token, UNSUBSCRIBE_SALT, None)
    except BadToken:
        return False
    return not AlertSubscription.objects.filter(pk=pk).exists()


def manage_token_check(token: str) -> AlertSubscriber:
    """The subscriber a management token names; raises BadToken otherwise."""
    pk, digest, secret = _read(token, MANAGE_SALT, None)
    subscriber = AlertSubscriber.objects.filter(pk=pk).first()
    if subscriber is None or not _bound(subscriber, digest, secret):
        raise BadToken("no such address")
    return subscriber
