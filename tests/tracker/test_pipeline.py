"""read_ahead: a background producer that keeps order, errors and early stops."""

from __future__ import annotations

import threading

import pytest

from tracker.services.pipeline import read_ahead


def test_items_arrive_in_order_from_another_thread():
    threads = []

    def produce():
        for n in range(50):
            threads.append(threading.current_thread())
            yield n

    assert list(read_ahead(produce(), depth=3)) == list(range(50))
    assert threading.current_thread() not in threads


def test_an_error_is_raised_where_it_happened():
    def produce():
        yield 1
        yield 2
        raise LookupError("source gone")

    seen = []
    with pytest.raises(LookupError, match="source gone"):
        for item in read_ahead(produce()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_producer_without_running_it_to_the_end():
    produced, closed = [], threading.Event()

    def produce():
        try:
            for n in range(10_000):
                produced.append(n)
                yield n
        finally:
            closed.set()

    for item in read_ahead(produce(), depth=2):
        if item == 3:
            break
    assert closed.wait(5)
    assert len(produced) < 10  # at most the buffer and the item in hand beyond the break


def test_the_producer_runs_while_the_consumer_works():
    third_made = threading.Event()

    def produce():
        yield 0
        yield 1
        third_made.set()
        yield 2

    items = read_ahead(produce(), depth=3)
    assert next(items) == 0
    assert third_made.wait(5)  # made while the consumer still holds the first
    assert list(items) == [1, 2]
