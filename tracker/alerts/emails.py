"""Alert emails: text and HTML alternatives, subjects in our own words, RFC 8058 headers."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from tracker.alerts.describe import header_safe
from tracker.alerts.models import AlertMessage, AlertSubscriber, AlertSubscription
from tracker.alerts.tokens import confirm_token, manage_token, unsubscribe_token
from tracker.models import Event

KIND_ORDER = {kind: index for index, kind in enumerate(Event.Kind.values)}
KIND_HEADINGS = {
    "award": "Awards",
    "modification": "Contract modifications",
    "solicitation": "Solicitations",
    "pitch": "Pitches",
    "meeting": "Meetings",
    "lobbying": "Lobbying",
    "foia": "Records released (FOIA)",
    "report": "Reports",
    "other": "Other events",
}


def absolute_url(path: str) -> str:
    """``path`` on the public site (``settings.SITE_URL``)."""
    return f"{settings.SITE_URL}{path}"


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _email(
    *, to: str, subject: str, template: str, context: dict[str, Any], headers: dict | None = None
) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    message = EmailMultiAlternatives(
        subject=header_safe(subject, 150),
        body=render_to_string(f"alerts/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
    )
    html = render_to_string(f"alerts/email/{template}.html", context)
    message.attach_alternative(html, "text/html")
    return message


def _manage_url(subscriber: AlertSubscriber) -> str:
    return absolute_url(reverse("alerts-manage", args=[manage_token(subscriber)]))


def email_confirmation(subscription: AlertSubscription) -> EmailMultiAlternatives:
    """The double opt-in email: the only email an unconfirmed address ever receives."""
    url = absolute_url(reverse("alerts-confirm", args=[confirm_token(subscription)]))
    return _email(
        to=subscription.subscriber.email,
        subject="Confirm your Spyglass alert",
        template="confirm",
        context={"subscription": subscription, "confirm_url": url},
    )


def email_already_subscribed(subscription: AlertSubscription) -> EmailMultiAlternatives:
    """Sent instead of a confirmation when the address already receives this alert."""
    return _email(
        to=subscription.subscriber.email,
        subject="You already have this Spyglass alert",
        template="already_subscribed",
        context={"subscription": subscription, "manage_url": _manage_url(subscription.subscriber)},
    )


def email_manage_link(subscriber: AlertSubscriber) -> EmailMultiAlternatives:
    """A fresh link to the page where an address manages its alerts."""
    return _email(
        to=subscriber.email,
        subject="Your Spyglass alerts",
        template="manage_link",
        context={"manage_url": _manage_url(subscriber)},
    )


def alert_subject(count: int, label: str) -> str:
    """A subject in our own words; the alert's label is sanitised and truncated."""
    noun = "event" if count == 1 else "events"
    return f"Spyglass: {count} new {noun} · {header_safe(label, 80) or 'your alert'}"


def _item(event: Event) -> dict[str, Any]:
    """One event line: its title on one line (scraped text cannot fake lines) and its URL."""
    return {
        "event": event,
        "title": header_safe(event.title, 300),
        "url": absolute_url(event.get_absolute_url()),
    }


def email_alert(message: AlertMessage, events: Sequence[Event]) -> EmailMultiAlternatives:
    """One alert email listing ``events`` grouped by kind, with one-click unsubscribe headers."""
    subscription = message.subscription
    unsubscribe_url = absolute_url(
        reverse("alerts-unsubscribe", args=[unsubscribe_token(subscription)])
    )
    ordered = sorted(events, key=lambda e: (KIND_ORDER.get(e.kind, 99), -(e.pk or 0)))
    groups = [
        {
            "label": KIND_HEADINGS.get(kind, kind),
            "events": [_item(e) for e in items],
        }
        for kind, items in groupby(ordered, key=lambda e: e.kind)
    ]
    list_unsubscribe = f"<{unsubscribe_url}>"
    mailto = getattr(settings, "ALERTS_UNSUBSCRIBE_MAILTO", "")
    if mailto:
        list_unsubscribe += f", <mailto:{mailto}?subject=unsubscribe>"
    query = urlencode(subscription.params, doseq=True)
    search_url = absolute_url(reverse("home") + (f"?{query}" if query else ""))
    return _email(
        to=subscription.subscriber.email,
        subject=alert_subject(len(events), subscription.label),
        template="alert",
        context={
            "subscription": subscription,
            "groups": groups,
            "count": len(events),
            "unsubscribe_url": unsubscribe_url,
            "manage_url": _manage_url(subscription.subscriber),
            "search_url": search_url,
        },
        headers={
            "Message-ID": f"<{message.key}@{_mail_domain()}>",
            "List-Unsubscribe": list_unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Spyglass alerts <alerts.{_mail_domain()}>",
        },
    )
