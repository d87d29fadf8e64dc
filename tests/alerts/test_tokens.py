"""Signed links: tampering, expiry, other address or purpose, revocation; the manage page."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client

from tests.alerts.conftest import make_subscription
from tracker.alerts import tokens
from tracker.alerts.models import AlertSubscriber, AlertSubscription
from tracker.alerts.services import subscriber_reset_links

pytestmark = pytest.mark.django_db


def tamper(token: str) -> str:
    payload, rest = token.split(":", 1)
    return ("X" if payload[0] != "X" else "Y") + payload[1:] + ":" + rest


def test_tampered_tokens_fail():
    subscription = make_subscription(confirmed=False)
    for make, check in (
        (tokens.confirm_token, tokens.confirm_token_check),
        (tokens.unsubscribe_token, tokens.unsubscribe_token_check),
    ):
        token = make(subscription)
        assert check(token) == subscription
        with pytest.raises(tokens.BadToken):
            check(tamper(token))
        with pytest.raises(tokens.BadToken):
            check(token[:-2])
    assert (
        Client().get(f"/alerts/confirm/{tamper(tokens.confirm_token(subscription))}/").status_code
        == 400
    )


def test_confirmation_expires_after_three_days_but_other_links_do_not():
    subscription = make_subscription(confirmed=False)
    four_days_ago = time.time() - 4 * 86400
    with mock.patch("django.core.signing.time.time", return_value=four_days_ago):
        old_confirm = tokens.confirm_token(subscription)
        old_unsubscribe = tokens.unsubscribe_token(subscription)
        old_manage = tokens.manage_token(subscription.subscriber)
    with pytest.raises(tokens.BadToken):
        tokens.confirm_token_check(old_confirm)
    assert tokens.unsubscribe_token_check(old_unsubscribe) == subscription
    assert tokens.manage_token_check(old_manage) == subscription.subscriber
    page = Client().get(f"/alerts/confirm/{old_confirm}/")
    assert page.status_code == 400 and "expired" in page.content.decode()


def test_tokens_are_bound_to_the_address_and_the_purpose():
    mine = make_subscription("me@example.org")
    theirs = make_subscription("them@example.org")
    # A validly signed token naming my subscription but another address (or secret) is refused.
    forged = tokens._make(tokens.UNSUBSCRIBE_SALT, mine.pk, theirs.subscriber)
    with pytest.raises(tokens.BadToken):
        tokens.unsubscribe_token_check(forged)
    forged_manage = tokens._make(tokens.MANAGE_SALT, mine.subscriber.pk, theirs.subscriber)
    with pytest.raises(tokens.BadToken):
        tokens.manage_token_check(forged_manage)
    response = Client().post(f"/alerts/unsubscribe/{forged}/")
    assert response.status_code == 400
    assert AlertSubscription.objects.filter(pk=mine.pk).exists()
    # A token for one purpose does not work for another.
    with pytest.raises(tokens.BadToken):
        tokens.confirm_token_check(tokens.unsubscribe_token(mine))
    with pytest.raises(tokens.BadToken):
        tokens.unsubscribe_token_check(tokens.confirm_token(mine))


def test_resetting_revokes_every_link_and_mails_a_new_one():
    subscription = make_subscription()
    old_manage = tokens.manage_token(subscription.subscriber)
    old_unsubscribe = tokens.unsubscribe_token(subscription)
    subscriber_reset_links(subscription.subscriber)
    assert Client().get(f"/alerts/manage/{old_manage}/").status_code == 400
    assert Client().post(f"/alerts/unsubscribe/{old_unsubscribe}/").status_code == 400
    assert AlertSubscription.objects.filter(pk=subscription.pk).exists()
    (message,) = mail.outbox
    new_path = message.body.split("https://spyglass.example", 1)[1].split()[0]
    assert Client().get(new_path).status_code == 200


def test_manage_page_changes_pauses_resumes_and_deletes(starter, django_assert_num_queries):
    first = make_subscription(params={"agency": "ice"}, frequency="daily")
    second = make_subscription(params={"q": "rekognition"}, frequency="weekly")
    gone = make_subscription(params={"vendor": "merged-away"}, frequency="weekly")
    browser = Client(enforce_csrf_checks=True)
    path = f"/alerts/manage/{tokens.manage_token(first.subscriber)}/"
    # subscriber, subscriptions, agency and vendor paths, agency names: none per subscription.
    with django_assert_num_queries(5):
        page = browser.get(path)
    text = page.content.decode()
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer" and "no-store" in page["Cache-Control"]
    assert "New events involving U.S. Immigration and Customs Enforcement (ICE)" in text
    assert "was removed from Spyglass, so it matches nothing" in text
    assert "New events mentioning “rekognition”" in text
    token = browser.cookies["csrftoken"].value

    def act(**data):
        return browser.post(path, {"csrfmiddlewaretoken": token, **data})

    assert act(action="frequency", subscription=first.pk, frequency="immediate").status_code == 303
    assert act(action="pause", subscription=second.pk).status_code == 303
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.frequency == "immediate" and second.paused_at is not None
    act(action="resume", subscription=second.pk)
    second.refresh_from_db()
    assert second.paused_at is None
    other = make_subscription("other@example.org")
    act(action="delete", subscription=other.pk)  # not this address's: ignored
    assert AlertSubscription.objects.filter(pk=other.pk).exists()
    act(action="delete", subscription=first.pk)
    act(action="delete", subscription=gone.pk)
    last = act(action="delete", subscription=second.pk)
    assert "All your alerts are deleted" in last.content.decode()
    assert not AlertSubscriber.objects.filter(email="reader@example.org").exists()
    assert browser.post(path, {"csrfmiddlewaretoken": token, "action": "pause"}).status_code == 400
