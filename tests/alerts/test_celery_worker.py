"""A real Celery worker on Redis, killed with SIGKILL mid-send, then redelivered: no duplicate."""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery
from django.utils import timezone

from tests.conftest import REDIS_URL, ROOT, require_service
from tests.support.worker import database_url
from tracker.alerts.models import AlertDelivery, AlertMessage, AlertSubscriber, AlertSubscription
from tracker.alerts.services import params_key
from tracker.models import Agency, Event, EventAgency, EventTechnology, Technology

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
TASK = "tracker.alerts.tasks.alerts_send_immediate"


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {seconds}s waiting for {what}")


class Workers:
    """Starts celery workers as process groups and always kills them."""

    def __init__(self, queue: str, database: str, mail_dir: Path, log_dir: Path) -> None:
        self.queue, self.database, self.mail_dir, self.log_dir = queue, database, mail_dir, log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, **extra_env: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            "DATABASE_URL": self.database,
            "CELERY_BROKER_URL": REDIS_URL,
            "EMAIL_BACKEND": "tests.alerts.mail_backend.EmailBackend",
            "ALERTS_TEST_MAIL_DIR": str(self.mail_dir),
            "SITE_URL": "https://spyglass.example",
            **extra_env,
        }
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tracker",
                "worker",
                "--pool=solo",
                "-c",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-O",
                "fair",
                "-Q",
                self.queue,
                "-I",
                "tracker.alerts.tasks",
                "-l",
                "INFO",
                "-n",
                f"{self.queue}-{len(self.processes)}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def close(self) -> None:
        for process in self.processes:
            self.kill(process)


@pytest.fixture
def redis_app():
    require_service("Redis", REDIS_URL)
    app = Celery("alerts-test", broker=REDIS_URL, backend=REDIS_URL)
    app.conf.task_serializer = "json"
    queue = f"alerts-test-{uuid.uuid4().hex[:12]}"
    yield app, queue
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        for tag, raw in client.hgetall("unacked").items():
            if json.loads(raw)[-1] == queue:  # [message, exchange, routing key]
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    app.close()


def test_worker_killed_mid_send_does_not_send_twice(redis_app, tmp_path):
    app, queue = redis_app
    mail_dir, log_dir = tmp_path / "mail", tmp_path / "logs"
    mail_dir.mkdir()
    log_dir.mkdir()
    since = timezone.now() - dt.timedelta(minutes=5)
    ice = Agency.objects.create(name="Immigration and Customs Enforcement", slug="ice")
    for address in ("a@example.org", "b@example.org"):
        subscriber = AlertSubscriber.objects.create(email=address, confirmed_at=since)
        AlertSubscription.objects.create(
            subscriber=subscriber,
            params={"agency": "ice"},
            params_key=params_key({"agency": "ice"}),
            label="ICE",
            frequency="immediate",
            confirmed_at=since,
            watch_from=since,
        )
    faces = Technology.objects.create(name="Face recognition")
    events = [Event.objects.create(kind="award", title=f"Award {n}") for n in range(3)]
    for event in events:
        EventAgency.objects.create(event=event, agency=ice)
        EventTechnology.objects.create(event=event, technology=faces)
    ids = [event.pk for event in events]

    workers = Workers(queue, database_url(), mail_dir, log_dir)
    task_id = str(uuid.uuid4())
    try:
        doomed = workers.start(ALERTS_TEST_SEND_DELAY="120")
        app.send_task(TASK, args=[ids], queue=queue, task_id=task_id)
        wait_for((mail_dir / "sending.flag").exists, 60, "the first worker to start sending")
        assert AlertMessage.objects.filter(status="pending", claimed_by=task_id).count() == 2
        workers.kill(doomed)
        assert list(mail_dir.glob("*.eml")) == []

        workers.start()
        # The broker would redeliver the unacknowledged task after its visibility timeout
        # (hours, sized by CELERY_TASK_TIME_LIMIT); redeliver the same task id now instead.
        app.send_task(TASK, args=[ids], queue=queue, task_id=task_id)
        wait_for(lambda: AlertMessage.objects.filter(status="sent").count() == 2, 60, "both alerts")
        # A second redelivery and a fresh task for the same events find nothing to do.
        app.send_task(TASK, args=[ids], queue=queue, task_id=task_id).get(timeout=60)
        again = app.send_task(TASK, args=[ids], queue=queue).get(timeout=60)
        assert again["reserved"] == 0 and again["sent"] == 0
    finally:
        workers.close()
        logs = "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(log_dir.glob("*.log"))
        )

    files = sorted(mail_dir.glob("*.eml"))
    recipients = sorted(email.message_from_bytes(f.read_bytes())["To"] for f in files)
    assert recipients == ["a@example.org", "b@example.org"], logs
    assert AlertMessage.objects.count() == 2
    assert AlertDelivery.objects.count() == 6
    for file in files:
        body = email.message_from_bytes(file.read_bytes()).get_payload()[0].get_payload(decode=True)
        assert all(f"/events/{pk}/".encode() in body for pk in ids)
