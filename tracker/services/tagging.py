"""Entity spotting over free text: known agencies, vendors and products named in news and FOIA
documents. (Technology tagging lives in ``tracker.services.classifier``.)

Phrases are matched by a token index (one dictionary lookup per word of the text), so
spotting stays linear in the text's length however many names there are. A name with a
capital letter ("ICE", "AWS", "Rekognition") matches case-sensitively; a lower-case name
matches any case and simple plurals. Vendor names are proper names: "PARAGON SOLUTIONS INC",
as contract databases spell it, matches "Paragon Solutions" (any case, but never starting
with a lower-case word, so "ring" in prose is not the company Ring).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field

from tracker.models import Agency, AgencyAlias, Product, Vendor, VendorAlias
from tracker.normalize import generic_name, strip_legal_form

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_THE = re.compile(r"^the\s+", re.IGNORECASE)


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
        self._names: dict[str, list[tuple[tuple[str, ...], Hashable]]] = defaultdict(list)

    def add(self, phrase: str, value: Hashable) -> None:
        words = _TOKEN.findall(phrase)
        if not words:
            return
        if phrase != phrase.lower():
            self._exact[words[0]].append((tuple(words), value))
        else:
            folded = tuple(_stem(w) for w in words)
            self._folded[folded[0]].append((folded, value))

    def add_name(self, name: str, value: Hashable) -> None:
        """Add a proper name: it matches in any case where its first word is not lower-case."""
        words = tuple(w.lower() for w in _TOKEN.findall(name))
        if words:
            self._names[words[0]].append((words, value))

    def find(self, text: str) -> set[Hashable]:
        words = _TOKEN.findall(text)
        folded = [_stem(w) for w in words]
        found: set[Hashable] = set()
        for index, table in ((words, self._exact), (folded, self._folded)):
            for i, word in enumerate(index):
                for phrase, value in table.get(word, ()):
                    if tuple(index[i : i + len(phrase)]) == phrase:
                        found.add(value)
        if self._names:
            lowered = [w.lower() for w in words]
            for i, word in enumerate(lowered):
                if words[i].islower():
                    continue
                for phrase, value in self._names.get(word, ()):
                    if tuple(lowered[i : i + len(phrase)]) == phrase:
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
        for vendor_id, name in Vendor.objects.values_list("id", "name"):
            self._add_vendor(name, vendor_id)
        for vendor_id, name in VendorAlias.objects.values_list("vendor_id", "name"):
            self._add_vendor(name, vendor_id)
        for product in Product.objects.all():
            for name in [product.name, *product.aliases]:
                self.index.add(name, ("product", product.pk, product.vendor_id))

    def _add_vendor(self, name: str, vendor_id: int) -> None:
        """Index a vendor name or alias by how prose writes it.

        A short all-caps word ("AWS", "RELX") is an acronym and matches only as written; a
        name made only of generic words ("SECURITY SOLUTIONS INC") or shorter than three
        letters is spotted by its full name with the legal form ("Security, Inc.") or, when
        a curator spelt it in mixed case ("General Dynamics"), exactly as written.
        """
        value = ("vendor", vendor_id)
        display = _THE.sub("", strip_legal_form(name))
        words = _TOKEN.findall(display)
        if generic_name(words):
            if len(words) > 1 and not display.isupper():
                self.index.add(display, value)
            elif strip_legal_form(name) != name.strip():
                self.index.add_name(name, value)
        elif len(words) == 1 and display.isupper() and len(display) <= 5:
            self.index.add(display, value)
        else:
            self.index.add_name(display, value)

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
