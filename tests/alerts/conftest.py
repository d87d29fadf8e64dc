"""Fixtures for the alert tests: a site URL and small factories (tests/conftest.py empties
the cache around every test)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

import tracker.alerts.models  # noqa: F401  (registers the models until tracker/models.py imports them)
from tracker.alerts.models import AlertSubscriber, AlertSubscription
from tracker.alerts.services import params_key, subscription_confirm
from tracker.models import (
    Agency,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    Technology,
    Vendor,
)

SITE = "https://spyglass.example"


@pytest.fixture(autouse=True)
def _alerts_settings(settings):
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Spyglass <alerts@spyglass.example>"


def make_event(*, agencies=(), vendors=(), technologies=(), **fields) -> Event:
    """An event linked to the entities with these slugs."""
    fields.setdefault("kind", "award")
    fields.setdefault("title", "An event")
    fields.setdefault("date", dt.date(2024, 5, 1))
    event = Event.objects.create(**fields)
    for slug in agencies:
        EventAgency.objects.create(event=event, agency=Agency.objects.get(slug=slug))
    for slug in vendors:
        EventVendor.objects.create(event=event, vendor=Vendor.objects.get(slug=slug))
    for slug in technologies:
        EventTechnology.objects.create(event=event, technology=Technology.objects.get(slug=slug))
    return event


def make_subscription(
    email: str = "reader@example.org",
    params: dict | None = None,
    frequency: str = "immediate",
    *,
    confirmed: bool = True,
    now: dt.datetime | None = None,
) -> AlertSubscription:
    """A subscription created directly (confirmed unless told otherwise)."""
    params = params or {}
    subscriber, _ = AlertSubscriber.objects.get_or_create(email=email)
    subscription = AlertSubscription.objects.create(
        subscriber=subscriber,
        params=params,
        params_key=params_key(params),
        label="test alert",
        frequency=frequency,
    )
    if confirmed:
        subscription_confirm(subscription, now=now or timezone.now())
    return subscription
