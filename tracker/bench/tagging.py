"""The tagging stage: the technology classifier over generated award text, one process.

The records come from ``datagen``: a third name a surveillance technology, the rest ordinary
purchases; half are shaped like USAspending rows (the title is the description) and half like
FPDS entries (the title says who was awarded how much); PSC codes carry their manual names;
one in fifty names a starter vendor (Clearview AI, Amazon, …) instead of a generated company.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import NamedTuple

from tracker.bench.datagen import FPDS_TITLE, PSC_NAMES, Dataset
from tracker.bench.report import Row
from tracker.models import Product, TaggingRule, Vendor
from tracker.services.classifier import Tagger
from tracker.services.starter import starter_data_load

STARTER_VENDOR_SHARE = 0.02
_WORD = re.compile(r"[a-z0-9]+")


class Award(NamedTuple):
    title: str
    summary: str
    vendor: str
    psc: str
    psc_description: str


def awards(count: int, *, starter_vendors: Sequence[str], seed: int = 7) -> list[Award]:
    """``count`` generated award records (deterministic for a seed and vendor list)."""
    data = Dataset(seed=seed)
    rng = random.Random(seed)
    records = []
    for n in range(count):
        action = data.action(n)
        vendor = action["company"].name
        if starter_vendors and rng.random() < STARTER_VENDOR_SHARE:
            vendor = rng.choice(starter_vendors)
        title = action["description"]
        if n % 2:
            title = FPDS_TITLE.format(piid=f"F{action['piid']}{n}", vendor=vendor,
                                      amount=f"{action['amount']:.2f}")
        psc = action["psc"]
        records.append(Award(title, action["description"], vendor, psc, PSC_NAMES[psc]))
    return records


def tag_all(tagger: Tagger, records: Sequence[Award]) -> int:
    """Tag every record with ``tagger``; how many got at least one technology."""
    tagged = 0
    for record in records:
        tags = tagger.tag(
            fields={"title": record.title, "summary": record.summary},
            vendors=[record.vendor],
            codes={"psc": record.psc, "psc_description": record.psc_description},
        )
        tagged += bool(tags.technologies)
    return tagged


class TokenIndex:
    """The baseline: the keyword, vendor and product phrases and the PSC code prefixes in plain
    dictionaries, matched as lower-case word sequences (no plurals, acronyms, strengths,
    exclusions or evidence)."""

    def __init__(self) -> None:
        self.phrases: dict[str, list[tuple[tuple[str, ...], int]]] = defaultdict(list)
        self.codes: dict[str, int] = {}
        rules = TaggingRule.objects.filter(active=True).values_list("kind", "value", "technology")
        products = Product.objects.values_list("name", "aliases", "technology")
        names = [(value, tech) for kind, value, tech in rules
                 if kind in (TaggingRule.Kind.KEYWORD, TaggingRule.Kind.VENDOR)]
        names += [(name, tech) for main, aliases, tech in products for name in (main, *aliases)]
        for name, tech in names:
            key = tuple(_WORD.findall(name.lower()))
            if key:
                self.phrases[key[0]].append((key, tech))
        for kind, value, tech in rules:
            if kind == TaggingRule.Kind.PSC and value.isalnum():
                self.codes[value.upper()] = tech

    def technologies(self, record: Award) -> set[int]:
        """The technologies whose phrase or code prefix occurs in ``record``."""
        found = set()
        words = _WORD.findall(f"{record.title}\n{record.summary}\n{record.vendor}".lower())
        for i, word in enumerate(words):
            for phrase, tech in self.phrases.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    found.add(tech)
        for end in range(1, len(record.psc) + 1):
            tech = self.codes.get(record.psc[:end])
            if tech is not None:
                found.add(tech)
        return found


def _rate(function: Callable[[], int], records: int) -> tuple[float, int]:
    started = time.perf_counter()
    tagged = function()
    return records / (time.perf_counter() - started), tagged


def tagging_stage(records: int, db: str, progress: Callable[[str], object]) -> list[Row]:
    """``Tagger.tag`` over ``records`` generated awards in this process: records/s, against
    the token-dictionary baseline on the same records."""
    starter_data_load()
    progress(f"tagging: generating {records:,} award records")
    starter_vendors = sorted(Vendor.objects.values_list("name", flat=True))
    sample = awards(records, starter_vendors=starter_vendors)
    tagger = Tagger()
    tag_all(tagger, sample[:1000])
    progress(f"tagging: {records:,} records")
    ours, tagged = _rate(lambda: tag_all(tagger, sample), records)
    index = TokenIndex()
    baseline, baseline_tagged = _rate(
        lambda: sum(bool(index.technologies(record)) for record in sample), records
    )
    return [Row("tagging", db, ours, baseline, extra={
        "records": records, "tagged": tagged, "baseline_tagged": baseline_tagged,
    })]
