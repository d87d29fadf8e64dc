"""Alert subscriptions by email, and the record of every message and delivery sent for them.

A subscriber is an email address (no account). Each subscription stores a timeline search as its
query-string dict (``EventFilters.to_params()``), so an alert means exactly what the timeline shows.
``AlertDelivery`` is unique on (subscription, event): the same event is never reserved twice for
the same subscription. ``AlertMessage`` is the outbox row that makes sending idempotent.
"""

from __future__ import annotations

import secrets

from django.db import models

__all__ = ["AlertDelivery", "AlertMessage", "AlertSubscriber", "AlertSubscription"]


def new_secret() -> str:
    """A fresh per-subscriber nonce; changing it revokes every link sent to that address."""
    return secrets.token_hex(16)


class AlertSubscriber(models.Model):
    """An email address that asked for alerts."""

    email = models.EmailField(max_length=254, unique=True)
    secret = models.CharField(max_length=32, default=new_secret, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class AlertSubscription(models.Model):
    """One saved search (or entity) an address wants to hear about, at one frequency."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", "as soon as new events arrive"
        DAILY = "daily", "a daily digest"
        WEEKLY = "weekly", "a weekly digest"

    subscriber = models.ForeignKey(
        AlertSubscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    params = models.JSONField(default=dict, blank=True, help_text="EventFilters.to_params()")
    params_key = models.CharField(max_length=64, editable=False)
    label = models.CharField(max_length=200, blank=True)
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default="daily")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    watch_from = models.DateTimeField(
        null=True, blank=True, help_text="Only events created or updated after this are sent."
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "params_key"], name="alert_subscription_unique"
            )
        ]
        indexes = [models.Index(fields=["frequency", "confirmed_at"], name="alert_sub_due_idx")]

    def __str__(self) -> str:
        return f"{self.subscriber} · {self.label or 'all events'} ({self.frequency})"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.paused_at is None


class AlertMessage(models.Model):
    """An alert email reserved for sending: created with its deliveries in one transaction."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        CANCELLED = "cancelled"

    key = models.CharField(max_length=100, unique=True, help_text="Also the email's Message-ID.")
    subscription = models.ForeignKey(
        AlertSubscription, on_delete=models.CASCADE, related_name="messages"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    claimed_by = models.CharField(max_length=64, blank=True, help_text="The run sending it.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "claimed_at"], name="alert_message_pending_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class AlertDelivery(models.Model):
    """One event sent (or reserved to be sent) to one subscription; never twice."""

    subscription = models.ForeignKey(
        AlertSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "tracker.Event", on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    message = models.ForeignKey(AlertMessage, on_delete=models.CASCADE, related_name="deliveries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="alert_delivery_unique")
        ]
        indexes = [models.Index(fields=["event"], name="alert_delivery_event_idx")]

    def __str__(self) -> str:
        return f"{self.subscription_id} ← event {self.event_id}"
