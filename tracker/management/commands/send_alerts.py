"""``manage.py send_alerts [--frequency immediate|daily|weekly]``: send due alerts from cron.

For hosts without a broker (no Celery beat): it calls the service the beat's
``alerts_send_due`` task calls, so an alert sent by either one is reserved once and never sent
again by the other, and running it twice in a period sends nothing the second time.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tracker.alerts.models import AlertSubscription
from tracker.alerts.sending import alerts_collect_and_send
from tracker.alerts.services import alerts_expire_unconfirmed


class Command(BaseCommand):
    help = "Send the due alerts of one frequency (the beat schedule's job, for cron-only hosts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--frequency",
            choices=AlertSubscription.Frequency.values,
            default=AlertSubscription.Frequency.IMMEDIATE,
            help="which alerts: the immediate sweep (default) or the daily/weekly digests",
        )
        parser.add_argument(
            "--expire-unconfirmed",
            action="store_true",
            help="also delete alerts never confirmed within the confirmation link's lifetime",
        )

    def handle(self, *args, frequency: str, expire_unconfirmed: bool, **options) -> None:
        now = timezone.now()
        run = alerts_collect_and_send(frequency=frequency, now=now)
        self.stdout.write(
            f"{frequency}: {run.sent} sent, {run.failed} failed "
            f"({run.subscriptions} alerts due, {run.events} events read)"
        )
        if expire_unconfirmed:
            expired = alerts_expire_unconfirmed(now=now)
            self.stdout.write(f"{expired} unconfirmed alerts expired")
