"""Run a real Celery worker process against Redis and the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database as a DATABASE_URL another process can open."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user, host = settings["USER"] or "postgres", settings["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}"


class Worker:
    """A ``celery worker`` subprocess consuming one private queue; killed on exit."""

    def __init__(
        self, broker_url: str, *, queue: str | None = None, env: dict[str, str] | None = None
    ):
        self.broker_url = broker_url
        self.queue = queue or f"test-{uuid.uuid4().hex[:8]}"
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.log = ROOT / "var" / f"worker-{self.queue}-{uuid.uuid4().hex[:4]}.log"

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            **self.env,
        }
        self.log.parent.mkdir(exist_ok=True)
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tracker",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
                "-n",
                f"{self.queue}-{uuid.uuid4().hex[:4]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if getattr(self, "_log_file", None):
            self._log_file.close()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def sender(broker_url: str) -> Celery:
    """A Celery app that only sends tasks to the broker (the test process runs tasks eagerly)."""
    return Celery("test-sender", broker=broker_url)


def wait_for(
    predicate, *, timeout: float = 60.0, interval: float = 0.2, worker: Worker | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker and worker.process and worker.process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{worker.output()[-3000:]}")
        time.sleep(interval)
    tail = worker.output()[-3000:] if worker else ""
    raise AssertionError(f"timed out after {timeout}s\n{tail}")
