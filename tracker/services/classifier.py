"""The technology classifier: layered rules from the database, with evidence for every tag.

Each rule is one clue, of one strength:

* **strong** clues tag on their own: a specific phrase ("license plate reader"), a product
  name ("GrayKey"), a vendor that sells nothing but one kind of surveillance (Clearview AI);
* **supporting** clues need a second clue for the same technology: an ambiguous acronym
  ("CLEAR", "ATD"), a multi-line vendor (Anduril, West Publishing), a product code
  ("Cameras, motion picture"), a word such as "towers" or "trackers";
* **contextual** clues ("camera") also count when the record has a strong clue for any
  technology: cameras bought for a ground-sensor programme are surveillance cameras.

Phrases match whole words. An all-capitals phrase ("LPR", "UGS") is an acronym and matches
upper-case words only (plural "LPRS"/"LPRs" too); any other phrase matches any case and simple
plurals. Runs of single letters join ("B.I." is "BI", "U.S." is "US"). Where two matches
overlap, the longer one wins: "drone forensics" is forensic extraction and hides "drone", and
an exclusion such as "light tower" hides the "tower" inside it without tagging anything.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Q

from tracker.models import Product, Strength, TaggingRule, Technology, Vendor, under_path
from tracker.normalize import strip_legal_form, vendor_key

_WORD = re.compile(r"[A-Za-z0-9]+")
STRONG, SUPPORTING, CONTEXTUAL = (str(s.value) for s in Strength)
_CODE_VALUE = re.compile(r"^[A-Za-z0-9]{1,6}$")


def words(text: str) -> list[str]:
    """The words of ``text``, with runs of single letters joined ("B.I. Inc" → BI, Inc)."""
    found = _WORD.findall(text)
    if 1 not in map(len, found):
        return found
    joined: list[str] = []
    run = ""
    for word in found:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(word)
    if run:
        joined.append(run)
    return joined


def fold(word: str) -> str:
    """A word compared without case or a simple plural ("Readers" → reader, "batteries")."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class Clue(NamedTuple):
    """What one matched phrase, code or vendor name says."""

    technology: int
    strength: str
    kind: str  # keyword | product | vendor | psc | naics | atlas | exclude
    rule: int | None
    product: int | None
    label: str  # the rule's value, product name or vendor display name


class _Phrase(NamedTuple):
    words: tuple[str, ...]
    exact: bool
    clue: Clue


class PhraseMatcher:
    """Finds many phrases in a text with one dictionary lookup per word.

    A long word one typing slip inside it away from a word of the phrases ("UNMMANED",
    "FINGERPTINT", "SURVEILANCE") reads as that word: each such word and each of its one-letter
    deletions point to it, so a slip costs a few lookups. What each word as written reads as
    is remembered, so a word seen before costs one lookup.
    """

    TYPO_MIN_LENGTH = 8
    _MEMO_LIMIT = 200_000

    def __init__(self) -> None:
        self._exact: dict[str, list[_Phrase]] = defaultdict(list)
        self._folded: dict[str, list[_Phrase]] = defaultdict(list)
        self._near: dict[str, str] | None = None
        self._tokens: dict[str, str] = {}  # word as written → folded, corrected word
        self._starts: dict[str, list[_Phrase]] = {}  # word as written → phrases it may start

    def add(self, phrase: str, clue: Clue, *, acronyms: bool = True) -> None:
        """Add ``phrase``; with ``acronyms=False`` even an all-capitals phrase matches any case."""
        parts = words(phrase)
        if not parts:
            return
        if (
            acronyms
            and all(p.isupper() or p.isdigit() for p in parts)
            and any(p.isupper() for p in parts)
        ):
            self._exact[parts[0]].append(_Phrase(tuple(parts), True, clue))
        else:
            folded = tuple(fold(p) for p in parts)
            self._folded[folded[0]].append(_Phrase(folded, False, clue))
        self._near = None
        self._tokens.clear()
        self._starts.clear()

    def _token(self, word: str) -> str:
        """``word`` as written, folded and corrected; remembered, with whether it may start
        a phrase."""
        if len(self._tokens) >= self._MEMO_LIMIT:
            self._tokens.clear()
            self._starts.clear()
        found = self._tokens[word] = self._corrected(fold(word))
        phrases = self._exact.get(word) or (
            self._exact.get(word[:-1], []) if len(word) > 2 and word[-1] in "sS" else []
        )
        phrases = [*phrases, *self._folded.get(found, ())]
        if phrases:
            self._starts[word] = phrases
        return found

    def _corrected(self, word: str) -> str:
        """``word``, or the phrase word it is a one-letter slip of."""
        if len(word) < self.TYPO_MIN_LENGTH or not word.isalpha():
            return word
        if self._near is None:
            self._near = _near_words(self._folded)
        near = self._near
        if near.get(word) == word:
            return word
        return near.get(word) or next((near[d] for d in _deletions(word) if d in near), word)

    def matches(self, text: str) -> list[tuple[Clue, str]]:
        """The clues ``text`` names, each with the words that named it (exclusions applied)."""
        raw = words(text)
        return [
            (clue, " ".join(raw[start:end]))
            for start, end, clue in self.find(raw)
            if clue.kind != "exclude"
        ]

    def find(self, raw: list[str]) -> list[tuple[int, int, Clue]]:
        """Every match in the words ``raw`` as (first word, end word, clue), longer matches
        hiding those inside."""
        tokens = self._tokens
        folded = [tokens.get(w) or self._token(w) for w in raw]
        found: list[tuple[int, int, Clue]] = []
        starts = self._starts
        if starts.keys().isdisjoint(raw):
            return found
        for i, word in enumerate(raw):
            phrases = starts.get(word)
            if phrases is None:
                continue
            for phrase in phrases:
                end = i + len(phrase.words)
                if end == i + 1 or (
                    end <= len(raw)
                    and (
                        all(_same_acronym(raw[i + k], p) for k, p in enumerate(phrase.words))
                        if phrase.exact
                        else tuple(folded[i:end]) == phrase.words
                    )
                ):
                    found.append((i, end, phrase.clue))
        if len(found) < 2:
            return found
        return [m for m in found if not any(_hides(o, m) for o in found if o is not m)]


def _hides(outer: tuple[int, int, Clue], inner: tuple[int, int, Clue]) -> bool:
    """Does match ``outer`` hide match ``inner``? A longer match hides those inside it; an
    exclusion also hides a match of its own technology on the same words."""
    if not (outer[0] <= inner[0] and inner[1] <= outer[1]):
        return False
    if outer[1] - outer[0] > inner[1] - inner[0]:
        return True
    return outer[2].kind == "exclude" and outer[2].technology == inner[2].technology


def _deletions(word: str) -> set[str]:
    """``word`` less one inner letter (slips at either end mostly make other words)."""
    return {word[:i] + word[i + 1 :] for i in range(1, len(word) - 1)}


def _near_words(folded: Mapping[str, list[_Phrase]]) -> dict[str, str]:
    """Every phrase word long enough to have slips, and each of its one-letter deletions,
    mapped to that word (a deletion shared by two words is dropped as ambiguous)."""
    vocabulary = {w for phrases in folded.values() for p in phrases for w in p.words}
    near: dict[str, str] = {}
    ambiguous: set[str] = set()
    for word in vocabulary:
        if len(word) < PhraseMatcher.TYPO_MIN_LENGTH or not word.isalpha():
            continue
        near[word] = word
        for variant in _deletions(word):
            if variant in vocabulary or near.get(variant, word) != word:
                ambiguous.add(variant)
            near.setdefault(variant, word)
    for variant in ambiguous:
        if near.get(variant) != variant:
            near.pop(variant, None)
    return near


def _same_acronym(word: str, wanted: str) -> bool:
    return word == wanted or (
        len(word) == len(wanted) + 1 and word[:-1] == wanted and word[-1] in "sS"
    )


@dataclass
class Tags:
    """The technologies a record is about, each with the evidence for it."""

    technologies: dict[int, int | None] = field(default_factory=dict)  # → first rule id
    evidence: dict[int, list[dict]] = field(default_factory=dict)
    products: set[int] = field(default_factory=set)

    def add(self, technology: int, rule: int | None, evidence: Iterable[dict]) -> None:
        """Add a technology (or more evidence for it) from outside the rules."""
        self.technologies.setdefault(technology, rule)
        have = self.evidence.setdefault(technology, [])
        have += [e for e in evidence if e not in have]

    def drop(self, technologies: Iterable[int]) -> None:
        """Forget ``technologies`` (a curator rejected them for this event)."""
        for technology in technologies:
            self.technologies.pop(technology, None)
            self.evidence.pop(technology, None)


def inherited_evidence(base_title: str) -> list[dict]:
    """The evidence of a tag a modification takes from its base award."""
    return [
        {
            "kind": "base",
            "field": "base award",
            "match": base_title[:200],
            "strength": STRONG,
            "rule": None,
            "product": None,
            "why": f"inherited from the base award '{base_title[:200]}'",
        }
    ]


FIELD_NAMES = {"title": "title", "summary": "description", "text": "text"}


class Tagger:
    """The active tagging rules and products, compiled once per run."""

    def __init__(self) -> None:
        self.names = dict(Technology.objects.values_list("pk", "name"))
        self.text = PhraseMatcher()
        self.vendors = PhraseMatcher()
        self.codes: dict[str, list[tuple[str, Clue]]] = defaultdict(list)
        self.code_phrases: dict[str, PhraseMatcher] = defaultdict(PhraseMatcher)
        self.atlas: dict[str, Clue] = {}
        self.patterns: list[tuple[re.Pattern[str], Clue]] = []
        self._code_memo: dict[tuple[str, str], list[tuple[Clue, str, str]]] = {}
        self._vendor_memo: dict[str, list[tuple[Clue, str, str]]] = {}
        self.family: dict[str, list[Clue]] = defaultdict(list)  # vendor key → vendor rules
        families = _vendor_families()
        for rule in TaggingRule.objects.filter(active=True).select_related("vendor"):
            kind = rule.kind
            clue = Clue(rule.technology_id, rule.strength, kind, rule.pk, None, rule.value)
            if kind in (TaggingRule.Kind.KEYWORD, TaggingRule.Kind.EXCLUDE):
                self.text.add(rule.value, clue)
            elif kind == TaggingRule.Kind.PATTERN:
                try:
                    self.patterns.append((re.compile(rule.value, re.IGNORECASE), clue))
                except re.error:
                    continue  # a curator's broken pattern matches nothing
            elif kind == TaggingRule.Kind.ATLAS:
                self.atlas[rule.value.strip().lower()] = clue
            elif kind == TaggingRule.Kind.VENDOR:
                label = strip_legal_form(rule.vendor.name) if rule.vendor else rule.value
                clue = clue._replace(label=label)
                self.vendors.add(rule.value, clue, acronyms=False)
                self.text.add(rule.value, clue, acronyms=False)
                for name in families.get(rule.vendor_id, ()) if rule.vendor_id else ():
                    self.family[vendor_key(name)].append(clue)
            elif _CODE_VALUE.match(rule.value.strip()):
                self.codes[kind].append((rule.value.strip().upper(), clue))
            else:
                self.code_phrases[kind].add(rule.value, clue)
        for product in Product.objects.all():
            clue = Clue(
                product.technology_id, product.strength, "product", None, product.pk, product.name
            )
            for name in {product.name, *product.aliases}:
                self.text.add(name, clue)

    def tag(
        self,
        *,
        text: str = "",
        fields: Mapping[str, str] | None = None,
        vendors: Iterable[str] = (),
        codes: Mapping[str, str] | None = None,
        hints: Iterable[str] = (),
    ) -> Tags:
        """The technologies that a record's text fields, vendors, codes and source labels show.

        ``fields`` maps a field name ("title", "summary", "text") to its text; ``text`` alone
        is read as one field called "text".
        """
        found: list[tuple[Clue, str, str]] = []  # clue, field, text matched
        seen_fields: set[str] = set()
        for name, value in (fields or {"text": text}).items():
            if not value or value in seen_fields:
                continue
            seen_fields.add(value)
            where = FIELD_NAMES.get(name, name)
            found += [(clue, where, matched) for clue, matched in self.text.matches(value)]
            for pattern, clue in self.patterns:
                hit = pattern.search(value)
                if hit:
                    found.append((clue, where, hit.group(0)))
        for vendor in vendors:
            found += _remember(self._vendor_memo, vendor, self._vendor_clues)
        for key in (codes or {}).items():
            found += _remember(self._code_memo, key, self._code_clues)
        for hint in hints:
            clue = self.atlas.get(hint.strip().lower())
            if clue:
                found.append((clue, "source", hint.strip()))
        return self._decide(found)

    def _vendor_clues(self, vendor: str) -> list[tuple[Clue, str, str]]:
        found = [(clue, "vendor", matched) for clue, matched in self.vendors.matches(vendor)]
        return found + [
            (clue, "vendor", vendor) for clue in self.family.get(vendor_key(vendor), ())
        ]

    def _code_clues(self, code: tuple[str, str]) -> list[tuple[Clue, str, str]]:
        kind, value = code
        value = (value or "").strip()
        if not value:
            return []
        if kind.endswith("_description"):
            code_kind = kind.removesuffix("_description")
            return [
                (clue, code_kind, value) for clue, _ in self.code_phrases[code_kind].matches(value)
            ]
        upper = value.upper()
        return [
            (clue, kind, value)
            for prefix, clue in self.codes.get(kind, ())
            if upper.startswith(prefix)
        ]

    def _decide(self, found: list[tuple[Clue, str, str]]) -> Tags:
        tags = Tags()
        if not found:
            return tags
        by_tech: dict[int, list[tuple[Clue, str, str]]] = {}
        for item in found:
            by_tech.setdefault(item[0].technology, []).append(item)
        strong = {c.technology for c, _, _ in found if c.strength == STRONG}
        for tech, items in by_tech.items():
            if (
                tech in strong
                or (strong and any(c.strength == CONTEXTUAL for c, _, _ in items))
                or len({_identity(c, where) for c, where, _ in items}) >= 2
            ):
                tags.technologies[tech] = next((c.rule for c, _, _ in items if c.rule), None)
                tags.evidence[tech] = self._evidence(tech, items)
                tags.products |= {c.product for c, _, _ in items if c.product}
        return tags

    def _evidence(self, tech: int, items: list[tuple[Clue, str, str]]) -> list[dict]:
        evidence: list[dict] = []
        seen: set[tuple] = set()
        order = {STRONG: 0, SUPPORTING: 1, CONTEXTUAL: 2}
        for clue, where, matched in sorted(items, key=lambda i: order.get(i[0].strength, 3)):
            key = _identity(clue, where)
            if key in seen:
                continue
            seen.add(key)
            evidence.append(
                {
                    "kind": clue.kind,
                    "field": where,
                    "match": matched,
                    "strength": clue.strength,
                    "rule": clue.rule,
                    "product": clue.product,
                    "why": _why(clue, where, matched, self.names.get(tech, "")),
                }
            )
        return evidence


def _identity(clue: Clue, where: str) -> tuple:
    """One clue however many rules spell it ("tower" and "towers" are one word); a record's
    vendor and a product code are one fact each, whichever rules name them."""
    if clue.kind in ("psc", "naics") or where == "vendor":
        return (where,)
    kind = "name" if clue.kind in ("product", "vendor") else clue.kind
    return (kind, _label_key(clue.label))


@functools.lru_cache(maxsize=4096)
def _label_key(label: str) -> tuple[str, ...]:
    return tuple(fold(w) for w in words(label))


def _remember(memo: dict, key: Any, compute: Callable[[Any], Any]) -> Any:
    """``compute(key)``, kept in ``memo`` (emptied when full: vendors and codes repeat)."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= PhraseMatcher._MEMO_LIMIT:
            memo.clear()
        found = memo[key] = compute(key)
    return found


def _why(clue: Clue, where: str, matched: str, technology: str) -> str:
    name = technology.lower()
    if clue.kind == "product":
        return f"product name '{clue.label}' in the {where}"
    if clue.kind == "vendor" and where == "vendor":
        if clue.strength == STRONG:
            return f"vendor {clue.label} is a {name} vendor"
        return f"vendor {clue.label} sells {name}, among other things"
    if clue.kind == "vendor":
        return f"vendor name '{clue.label}' in the {where}"
    if clue.kind in ("psc", "naics"):
        return f"{clue.kind.upper()} {matched} ({clue.label})"
    if clue.kind == "atlas":
        return f"the Atlas of Surveillance lists it as {matched}"
    return f"'{matched}' in the {where}"


def _vendor_families() -> dict[int, list[str]]:
    """Vendor id → the names of the vendor, its aliases and every subsidiary (matched whole)."""
    wanted = set(
        TaggingRule.objects.filter(active=True, vendor__isnull=False).values_list(
            "vendor_id", flat=True
        )
    )
    if not wanted:
        return {}
    families: dict[int, list[str]] = {}
    for vendor in Vendor.objects.filter(pk__in=wanted):
        members = Vendor.objects.filter(under_path(vendor.path) if vendor.path else Q(pk=vendor.pk))
        names = []
        for member in members.prefetch_related("aliases"):
            names += [member.name, *(a.name for a in member.aliases.all())]
        families[vendor.pk] = sorted(set(names))
    return families
