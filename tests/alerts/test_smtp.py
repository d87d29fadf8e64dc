"""An alert sent through Django's SMTP backend to a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from tests.alerts.conftest import SITE, make_event, make_subscription
from tracker.alerts.sending import alerts_collect_and_send

pytestmark = pytest.mark.django_db


class Sink:
    """Keeps every envelope the server accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    try:
        yield sink
    finally:
        controller.stop()


def test_alert_through_a_real_smtp_server(starter, smtp_sink):
    subscription = make_subscription(params={"agency": "ice"})
    event = make_event(kind="pitch", title="Face search pitched to ICE", agencies=["hsi"])
    run = alerts_collect_and_send(frequency="immediate", now=timezone.now())
    assert run.sent == 1
    (envelope,) = smtp_sink.envelopes
    assert envelope.mail_from == "alerts@spyglass.example"
    assert envelope.rcpt_tos == ["reader@example.org"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "Spyglass: 1 new event · test alert"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip()  # long: legally folded after the colon
    assert unsubscribe.startswith(f"<{SITE}/alerts/unsubscribe/") and unsubscribe.endswith("/>")
    key = subscription.messages.get().key
    assert message["Message-ID"] == f"<{key}@spyglass.example>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert f"Face search pitched to ICE\n  {SITE}/events/{event.pk}/" in text
    assert unsubscribe[1:-1] in text
    assert f'<a href="{SITE}/events/{event.pk}/">Face search pitched to ICE</a>' in html
