"""Test-only email backend for worker processes: one .eml file per message in a folder.

``ALERTS_TEST_MAIL_DIR`` names the folder. With ``ALERTS_TEST_SEND_DELAY`` set, the backend
touches ``sending.flag`` and sleeps before writing, so a test can kill the worker mid-send.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        folder = Path(os.environ["ALERTS_TEST_MAIL_DIR"])
        delay = float(os.environ.get("ALERTS_TEST_SEND_DELAY", "0"))
        for message in email_messages:
            if delay:
                (folder / "sending.flag").touch()
                time.sleep(delay)
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
