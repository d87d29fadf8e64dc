"""``manage.py send_alerts``: the cron-only way to send alerts, with Django's locmem backend."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.alerts.conftest import make_event, make_subscription
from tracker.alerts.models import AlertSubscription
from tracker.alerts.tasks import alerts_send_due
from tracker.alerts.tokens import CONFIRM_MAX_AGE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def send_alerts(*args: str) -> str:
    out = StringIO()
    call_command("send_alerts", *args, stdout=out)
    return out.getvalue()


def daily_subscription_due() -> AlertSubscription:
    """A confirmed daily digest last checked a day ago, with one matching event since."""
    subscription = make_subscription(params={"agency": "dhs"}, frequency="daily")
    yesterday = timezone.now() - dt.timedelta(days=1)
    AlertSubscription.objects.filter(pk=subscription.pk).update(last_checked_at=yesterday)
    make_event(agencies=["ice"], technologies=["face-recognition"])
    return subscription


def test_daily_digest_is_sent_by_the_command_and_not_twice(starter):
    subscription = daily_subscription_due()
    out = send_alerts("--frequency", "daily")
    assert out.startswith("daily: 1 sent, 0 failed (1 alerts due")
    (digest,) = mail.outbox
    assert digest.to == ["reader@example.org"] and "1 new event " in digest.subject

    assert send_alerts("--frequency", "daily").startswith("daily: 0 sent, 0 failed (0 alerts due")
    assert len(mail.outbox) == 1
    assert subscription.messages.count() == 1


def test_a_digest_sent_by_the_celery_task_is_not_sent_again_by_the_command(starter):
    daily_subscription_due()
    assert alerts_send_due.apply(args=("daily",)).get()["sent"] == 1
    assert send_alerts("--frequency", "daily").startswith("daily: 0 sent")
    assert len(mail.outbox) == 1


def test_default_is_the_immediate_sweep_and_other_frequencies_wait(starter):
    daily_subscription_due()
    assert send_alerts().startswith("immediate: 0 sent, 0 failed (0 alerts due")
    assert send_alerts("--frequency", "weekly").startswith("weekly: 0 sent")
    assert mail.outbox == []
    make_subscription(email="now@example.org", params={"agency": "ice"}, frequency="immediate")
    make_event(agencies=["ice"], technologies=["face-recognition"])
    assert send_alerts().startswith("immediate: 1 sent")
    assert [message.to for message in mail.outbox] == [["now@example.org"]]


def test_an_unknown_frequency_is_refused(starter):
    with pytest.raises(CommandError, match="invalid choice"):
        send_alerts("--frequency", "hourly")


def test_expire_unconfirmed_deletes_only_stale_unconfirmed_alerts(starter):
    stale = make_subscription(email="stale@example.org", confirmed=False)
    fresh = make_subscription(email="fresh@example.org", confirmed=False)
    long_ago = timezone.now() - CONFIRM_MAX_AGE - dt.timedelta(hours=1)
    AlertSubscription.objects.filter(pk=stale.pk).update(created_at=long_ago)
    out = send_alerts("--expire-unconfirmed")
    assert out.splitlines()[-1] == "1 unconfirmed alerts expired"
    assert list(AlertSubscription.objects.values_list("pk", flat=True)) == [fresh.pk]
