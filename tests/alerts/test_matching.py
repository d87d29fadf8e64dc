"""The in-memory matcher agrees with event_search on generated data: random filters, and
every combination of the filters."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

import pytest

from tracker.alerts.matching import (
    compile_queries,
    load_event_facts,
    match_events,
    path_prefixes,
)
from tracker.models import (
    Agency,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    Technology,
    Vendor,
)
from tracker.selectors import EventFilters, event_search

WORDS = [
    "face",
    "Drone",
    "stingray",
    "ALPR",
    "camera",
    "Rekognition",
    "contract",
    "sensor",
    "50%_off",
]
QUERY_TERMS = [
    "face",
    "FACE",
    "ace",
    "drone",
    "Stingray",
    "alpr",
    "rekog",
    "50%",
    "_off",
    "%",
    "zzz",
]


def tree(model, rng: random.Random, prefix: str, shape: tuple[int, ...], **fields) -> list:
    nodes, level = [], [None]
    for depth, width in enumerate(shape):
        next_level = []
        for parent in level:
            for i in range(width):
                extra = {k: rng.choice(v) for k, v in fields.items()}
                node = model.objects.create(
                    name=f"{prefix} {depth}-{i}-{parent.pk if parent else 0}",
                    parent=parent,
                    **extra,
                )
                next_level.append(node)
        nodes += next_level
        level = next_level
    return nodes


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < 0.3 else "lorem" for _ in range(n))


def random_filters(rng: random.Random, agencies, vendors, technologies) -> EventFilters:
    pick = rng.random
    return EventFilters(
        agency=rng.choice(agencies).slug if pick() < 0.4 else "",
        vendor=rng.choice(vendors).slug if pick() < 0.3 else "",
        technology=rng.choice(technologies).slug if pick() < 0.3 else "",
        kind=tuple(rng.sample(["award", "pitch", "foia", "report"], rng.randint(1, 2)))
        if pick() < 0.3
        else (),
        since=dt.date(2020, 1, 1) + dt.timedelta(rng.randint(0, 900)) if pick() < 0.2 else None,
        until=dt.date(2020, 6, 1) + dt.timedelta(rng.randint(0, 900)) if pick() < 0.2 else None,
        amount_min=Decimal(rng.randint(0, 5000)) if pick() < 0.2 else None,
        amount_max=Decimal(rng.randint(2000, 9000)) if pick() < 0.2 else None,
        level=rng.choice(["federal", "state", "local"]) if pick() < 0.2 else "",
        q=" ".join(rng.sample(QUERY_TERMS, rng.randint(1, 2))) if pick() < 0.35 else "",
    )


def agreeing(filters: list[EventFilters]) -> int:
    """Assert the matcher and event_search find the same events for each of ``filters``
    (stored as alerts store them); how many found any."""
    facts = load_event_facts(Event.objects.values_list("pk", flat=True))
    matches = match_events(
        compile_queries([(i, f.to_params()) for i, f in enumerate(filters)]), facts
    )
    nonempty = 0
    for i, f in enumerate(filters):
        expected = set(event_search(f).values_list("pk", flat=True))
        assert set(matches.get(i, ())) == expected, f
        nonempty += bool(expected)
    return nonempty


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matcher_agrees_with_event_search(seed):
    rng = random.Random(seed)
    agencies = tree(Agency, rng, "Agency", (3, 2, 2), level=["federal", "state", "local"])
    vendors = tree(Vendor, rng, "Vendor", (3, 2))
    technologies = tree(Technology, rng, "Tech", (2, 3))
    for _ in range(70):
        event = Event.objects.create(
            kind=rng.choice(["award", "pitch", "foia", "report"]),
            date=None
            if rng.random() < 0.15
            else dt.date(2020, 1, 1) + dt.timedelta(rng.randint(0, 1500)),
            amount=None if rng.random() < 0.3 else Decimal(rng.randint(0, 10_000)),
            title=text(rng, 4),
            summary=text(rng, 8) if rng.random() < 0.7 else "",
            body_text=text(rng, 20) if rng.random() < 0.5 else "",
        )
        for agency in rng.sample(agencies, rng.randint(0, 2)):
            EventAgency.objects.create(
                event=event, agency=agency, role=rng.choice(["buyer", "funder"])
            )
        for vendor in rng.sample(vendors, rng.randint(0, 2)):
            EventVendor.objects.create(event=event, vendor=vendor)
        for technology in rng.sample(technologies, rng.randint(0, 2)):
            EventTechnology.objects.create(event=event, technology=technology)

    filters = [random_filters(rng, agencies, vendors, technologies) for _ in range(250)]
    filters.append(EventFilters())
    filters.append(EventFilters(vendor="no-such-vendor"))
    assert agreeing(filters) > 60  # the generated searches are not trivially empty


def test_path_prefixes():
    assert path_prefixes("/1/7/12/") == ["/1/", "/1/7/", "/1/7/12/"]
    assert path_prefixes("") == []



@pytest.mark.django_db
def test_every_filter_combination_agrees_with_event_search():
    """Each subset of the filters, with values drawn at random, through both: the matcher is
    a compiled copy of event_search's conditions, so this is what keeps the two one."""
    rng = random.Random(7)
    # Few distinct dates and amounts, shared by events and filters, so bounds are hit exactly.
    days = [dt.date(2020 + year, month, 1) for year in range(3) for month in (1, 7)]
    amounts = [Decimal(n) for n in (0, 1000, 2500, 5000, 9000)]
    agencies = tree(Agency, rng, "Agency", (2, 2, 2), level=["federal", "state", "local"])
    vendors = tree(Vendor, rng, "Vendor", (2, 2))
    technologies = tree(Technology, rng, "Tech", (2, 2))
    for _ in range(60):
        event = Event.objects.create(
            kind=rng.choice(["award", "pitch", "foia", "report", "other"]),
            date=rng.choice([*days, None]),
            amount=rng.choice([*amounts, None]),
            title=text(rng, 4),
            summary=text(rng, 8),
        )
        for agency in rng.sample(agencies, rng.randint(0, 2)):
            EventAgency.objects.create(event=event, agency=agency)
        for vendor in rng.sample(vendors, rng.randint(0, 2)):
            EventVendor.objects.create(event=event, vendor=vendor)
        for technology in rng.sample(technologies, rng.randint(0, 1)):
            EventTechnology.objects.create(event=event, technology=technology)
    values = {
        "agency": lambda: rng.choice(agencies).slug,
        "vendor": lambda: rng.choice(vendors).slug,
        "technology": lambda: rng.choice(technologies).slug,
        "kind": lambda: tuple(rng.sample(["award", "pitch", "foia", "other"], rng.randint(1, 2))),
        "since": lambda: rng.choice(days[:4]),
        "until": lambda: rng.choice(days[2:]),
        "amount_min": lambda: rng.choice(amounts[:3]),
        "amount_max": lambda: rng.choice(amounts[2:]),
        "level": lambda: rng.choice(["federal", "state", "local"]),
        "q": lambda: rng.choice(["face", "drone -camera", '"face drone"', "alpr OR sensor"]),
        "all": lambda: True,
    }
    names = list(values)
    assert set(names) == set(EventFilters.FIELDS) - {"order"}  # a new filter joins this test
    filters = [
        EventFilters(**{name: values[name]() for name in combination})
        for size in range(len(names) + 1)
        for combination in itertools.combinations(names, size)
    ]
    assert len(filters) == 2 ** len(names)
    assert agreeing(filters) > 200
