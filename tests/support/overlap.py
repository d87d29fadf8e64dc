"""Two PostgreSQL transactions at once: the second must wait for the first to commit."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections, transaction


def overlapping(first: Callable[[], object], second: Callable[[], object]) -> None:
    """Run ``first`` in a transaction held open while ``second`` runs on another connection;
    assert that ``second`` waits for it and that neither raised."""
    locked, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold_first() -> None:
        try:
            with transaction.atomic():
                first()
                locked.set()
                release.wait(10)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            locked.set()
        finally:
            connections.close_all()

    def run_second() -> None:
        try:
            second()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    one = threading.Thread(target=hold_first)
    one.start()
    assert locked.wait(10)
    two = threading.Thread(target=run_second)
    two.start()
    two.join(1)
    assert two.is_alive(), "the second transaction did not wait for the first"
    release.set()
    one.join(10)
    two.join(10)
    assert not two.is_alive(), "the second transaction did not finish"
    assert not failures, failures
