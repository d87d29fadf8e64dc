"""Entity spotting over free text: known agencies, vendors and products named in news and FOIA
documents. (Technology tagging lives in ``tracker.services.classifier``.)

Phrases are matched by a token index (one dictionary lookup per word of the text), so
spotting stays linear in the text's length however many names there are. A name with a
capital letter ("ICE", "AWS", "Rekognition") matches case-sensitively; a lower-case name
matches any case and simple plurals.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field

from tracker.models import Agency, AgencyAlias, Product, Vendor, VendorAlias

_TOKEN = re.compile(r"[A-Za-z0-9]+")


def _stem(token: str) -> str:
    token = token.lower()
    return (
        token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") else token
    )


class PhraseIndex:
    """Finds which of many phrases occur in a text."""

    def __init__(self) -> None:
        self._exact: dict[str, list[tuple[tuple[str, ...], Hashable]]] = defaultdict(list)
        self._folded: dict[str, list[tuple[tuple[str, ...], Hashable]]] = defaultdict(list)

    def add(self, phrase: str, value: Hashable) -> None:
        words = _TOKEN.findall(phrase)
        if not words:
            return
        if phrase != phrase.lower():
            self._exact[words[0]].append((tuple(words), value))
        else:
            folded = tuple(_stem(w) for w in words)
            self._folded[folded[0]].append((folded, value))

    def find(self, text: str) -> set[Hashable]:
        words = _TOKEN.findall(text)
        folded = [_stem(w) for w in words]
        found: set[Hashable] = set()
        for index, table in ((words, self._exact), (folded, self._folded)):
            for i, word in enumerate(index):
                for phrase, value in table.get(word, ()):
                    if tuple(index[i : i + len(phrase)]) == phrase:
                        found.add(value)
        return found


@dataclass
class Entities:
    agencies: set[int] = field(default_factory=set)
    vendors: set[int] = field(default_factory=set)
    products: set[int] = field(default_factory=set)


class EntityFinder:
    """Spots known agencies, vendors and products named in free text (news, FOIA documents)."""

    def __init__(self) -> None:
        self.index = PhraseIndex()
        for agency in Agency.objects.only("id", "name", "acronym"):
            self.index.add(agency.name, ("agency", agency.pk))
            if agency.acronym and len(agency.acronym) >= 2:
                self.index.add(agency.acronym.upper(), ("agency", agency.pk))
        for agency_id, name in AgencyAlias.objects.values_list("agency_id", "name"):
            self.index.add(name, ("agency", agency_id))
        for vendor in Vendor.objects.only("id", "name"):
            self.index.add(_display(vendor.name), ("vendor", vendor.pk))
        for vendor_id, name in VendorAlias.objects.values_list("vendor_id", "name"):
            self.index.add(_display(name), ("vendor", vendor_id))
        for product in Product.objects.all():
            for name in [product.name, *product.aliases]:
                self.index.add(name, ("product", product.pk, product.vendor_id))

    def find(self, text: str) -> Entities:
        found = Entities()
        for hit in self.index.find(text):
            if hit[0] == "agency":
                found.agencies.add(hit[1])
            elif hit[0] == "vendor":
                found.vendors.add(hit[1])
            else:
                found.products.add(hit[1])
                if hit[2]:
                    found.vendors.add(hit[2])
        return found


def _display(name: str) -> str:
    """A company name as text mentions it: without ", Inc." and the like."""
    from tracker.normalize import strip_legal_form

    return strip_legal_form(name)
