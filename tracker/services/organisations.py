"""Organisations named in news and documents that match no known vendor or agency.

The importer spots company-like names in the text of news items and FOIA documents
(``organisations_spot``), and at the end of the import stores each one the database does not
know, by normalised name and alias, as an open ``OrganisationProposal`` listing the events that
name it (``proposals_record``). A curator makes a vendor of it (``proposal_accept``) or dismisses
it, and a dismissed name is never proposed again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from scrapers.base import Record
from tracker.models import (
    Agency,
    AgencyAlias,
    EventVendor,
    OrganisationProposal,
    SourceRecord,
    Vendor,
    VendorAlias,
)
from tracker.normalize import agency_key, generic_name, vendor_key, word_set

log = logging.getLogger(__name__)

# Words that end a company's name; after them a legal form may follow ("Acme Labs, Inc.").
LEGAL_FORMS = word_set("Inc Incorporated LLC LLP Ltd Limited Corp Corporation Co Company GmbH PLC")
COMPANY_WORDS = LEGAL_FORMS | word_set(
    """
    Technologies Technology Solutions Systems Labs Laboratories Group AI Analytics Intelligence
    Security Forensics Robotics Dynamics Software Networks Industries Enterprises Holdings
    Biometrics Aerospace Defense Data
    """
)
# Capitalised words that start a sentence or a date rather than a company's name.
_NOT_A_NAME = word_set(
    """
    a after also an and as at before both but by during for former from he her his how if in
    its it last many meanwhile most next of on or our over since some she that the their these
    they this those today under we what when while who why with yesterday according
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december
    """
)
# Words of public bodies and nations: "Homeland Security" and "Israeli Security" are no vendors.
_PUBLIC_WORDS = word_set(
    """
    administration agency army attorney board border bureau city college command commission
    committee congress council county court customs department diplomatic district division
    federal force homeland house immigration justice marshals ministry national navy office
    police senate sheriff state states university
    israeli american chinese russian iranian british european us u
    """
)
_CAP = r"[A-Z][\w'\u2019&-]*"
_RUN = re.compile(rf"(?<![\w'\u2019&-]){_CAP}(?:[ \t]+(?:&[ \t]+)?{_CAP})*")
_LEGAL_TAIL = re.compile(r",?[ \t]+(" + "|".join(sorted(LEGAL_FORMS)) + r")\b\.?")
_KIND = r"(?:company|firm|vendor|contractor|startup|start-up|supplier|manufacturer|maker)"
_QUOTED_NAME = r"[\"“]([A-Z][^\"”\n]{1,60}?)[,.]?[\"”]"
_QUOTED = (
    re.compile(rf"\b{_KIND}[ \t]+(?:called[ \t]+|named[ \t]+)?{_QUOTED_NAME}"),
    re.compile(rf"{_QUOTED_NAME},?[ \t]+(?:a|an|the)[ \t]+(?:[\w-]+[ \t]+){{0,3}}?{_KIND}\b"),
)
MAX_WORDS = 6
SNIPPET = 120  # characters either side of a mention


@dataclass
class Mention:
    name: str
    key: str
    snippet: str


@dataclass
class Mentions:
    """Organisations spotted in the records of one import, stored when it finishes."""

    by_record: dict[tuple[str, str], list[Mention]] = field(default_factory=dict)

    def note(self, record: Record, text: str) -> None:
        mentions = organisations_spot(text)
        if mentions:
            self.by_record[(record.source, record.external_id[:500])] = mentions

    def save(self) -> int:
        """Store the proposals (a failure is logged: ``events_propose`` can redo it)."""
        seen, self.by_record = self.by_record, {}
        try:
            return proposals_record(seen)
        except DatabaseError as exc:
            log.warning("organisation proposals of %d records not saved: %s", len(seen), exc)
            return 0


def organisations_spot(text: str) -> list[Mention]:
    """Company-like names in ``text``, one per normalised name, in order of appearance.

    A name is a run of capitalised words ending in a company word ("Acme Biometrics LLC",
    "Paragon Solutions") or a quoted name beside "company", "firm", "vendor" or "contractor".
    Lines in title case (headlines) are skipped: every word there is capitalised.
    """
    found: dict[str, Mention] = {}
    keys: dict[str, str] = {}
    offset = 0
    for line in text.splitlines(keepends=True):
        if not _title_case(line):
            for start, end, name in _candidates(line):
                if name not in keys:
                    keys[name] = vendor_key(name)
                key = keys[name]
                if key not in found:
                    found[key] = Mention(name, key, _snippet(text, offset + start, offset + end))
        offset += len(line)
    return list(found.values())


def _candidates(line: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, name) of the company-like names in one line of text."""
    for run in _RUN.finditer(line):
        if run.group().count(" ") > 2 * MAX_WORDS:
            continue  # a capitalised list or heading, not one name
        words = list(re.finditer(r"\S+", run.group()))
        while words and (
            words[0].group().lower() in _NOT_A_NAME or words[0].group().endswith(("'s", "\u2019s"))
        ):
            words.pop(0)
        if not words:
            continue
        start, end = run.start() + words[0].start(), run.end()
        names = [w.group() for w in words if w.group() != "&"]
        tail = _LEGAL_TAIL.match(line, end)
        if tail is not None:
            names.append(tail.group(1))
            end = tail.end()
        elif names[-1] not in COMPANY_WORDS:
            continue
        if _name(names):
            yield start, end, line[start:end]
    for pattern in _QUOTED:
        for match in pattern.finditer(line):
            if _name(match.group(1).split()):
                yield match.start(1), match.end(1), match.group(1).strip()


def _name(words: list[str]) -> bool:
    """Whether ``words`` can name one company: a few words, at least one distinctive, and no
    word of a public body ("Homeland Security", "National Security")."""
    core = [w for w in words if w.rstrip(".") not in LEGAL_FORMS]
    folded = [re.sub(r"\W", "", w.lower()) for w in core]
    return (
        bool(core)
        and len(words) <= MAX_WORDS
        and not generic_name(folded)
        and not any(word in _PUBLIC_WORDS for word in folded)
    )


def _title_case(line: str) -> bool:
    """Whether ``line`` is a headline: one short sentence with its words capitalised."""
    if len(line.split()) > 20 or ". " in line.strip():
        return False
    words = [w for w in re.findall(r"[A-Za-z]+", line) if len(w) > 3]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def _snippet(text: str, start: int, end: int) -> str:
    before = text[max(0, start - SNIPPET) : start]
    after = text[end : end + SNIPPET]
    return " ".join(f"{before}{text[start:end]}{after}".split())


@transaction.atomic
def proposals_record(seen: dict[tuple[str, str], list[Mention]]) -> int:
    """Store the organisations named in records (by (source, external id)) that match no known
    vendor, vendor alias or agency as open proposals with the events that name them.

    Idempotent: an event counts once however often it is imported; an accepted or dismissed
    name is left alone. Returns the number of open proposals touched.
    """
    events = _event_ids(seen)
    named: dict[str, tuple[Mention, set[int]]] = {}
    for record_key, mentions in seen.items():
        if record_key in events:
            for mention in mentions:
                named.setdefault(mention.key, (mention, set()))[1].add(events[record_key])
    for key in _known(set(named)):
        del named[key]
    if not named:
        return 0
    OrganisationProposal.objects.bulk_create(
        [
            OrganisationProposal(
                name=mention.name[:255],
                normalized=key[:255],
                snippet=mention.snippet,
                first_event_id=min(event_ids),
            )
            for key, (mention, event_ids) in named.items()
        ],
        ignore_conflicts=True,
    )
    proposals = dict(
        OrganisationProposal.objects.filter(
            normalized__in=list(named), status=OrganisationProposal.Status.OPEN
        ).values_list("normalized", "pk")
    )
    through = OrganisationProposal.events.through
    through.objects.bulk_create(
        [
            through(organisationproposal_id=pk, event_id=event_id)
            for key, pk in proposals.items()
            for event_id in named[key][1]
        ],
        ignore_conflicts=True,
    )
    seen_in = (
        through.objects.filter(organisationproposal_id=OuterRef("pk"))
        .values("organisationproposal_id")
        .annotate(n=Count("event_id"))
        .values("n")
    )
    OrganisationProposal.objects.filter(pk__in=proposals.values()).update(
        times_seen=Subquery(seen_in), updated_at=timezone.now()
    )
    return len(proposals)


def _event_ids(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    found = {}
    for source, ids in by_source.items():
        for chunk in range(0, len(ids), 500):
            rows = SourceRecord.objects.filter(
                source=source, external_id__in=ids[chunk : chunk + 500]
            ).values_list("external_id", "event_id")
            found.update({(source, external_id): event for external_id, event in rows})
    return found


def _known(keys: set[str]) -> set[str]:
    """The names among ``keys`` that are a vendor, a vendor's alias or (the end of) an agency's
    name ("Diplomatic Security" of "Bureau of Diplomatic Security")."""
    known = set(Vendor.objects.filter(normalized__in=keys).values_list("normalized", flat=True))
    known |= set(
        VendorAlias.objects.filter(normalized__in=keys).values_list("normalized", flat=True)
    )
    agencies = {agency_key(name) for name in Agency.objects.values_list("name", flat=True)}
    agencies |= set(AgencyAlias.objects.values_list("normalized", flat=True))
    tails = {" ".join(words[i:]) for words in map(str.split, agencies) for i in range(len(words))}
    return known | {key for key in keys if agency_key(key) in tails}


def events_propose(sources: Iterable[str]) -> int:
    """Look for unknown organisations in the stored text of every event from ``sources``
    (imports do it as they go; this covers events imported before, or by a run that stopped
    early). Idempotent like ``proposals_record``; returns the open proposals touched."""
    seen: dict[tuple[str, str], list[Mention]] = {}
    rows = SourceRecord.objects.filter(source__in=list(sources)).values_list(
        "source", "external_id", "event__title", "event__summary", "event__body_text"
    )
    for source, external_id, *fields in rows.iterator(chunk_size=2000):
        mentions = organisations_spot("\n".join(filter(None, fields)))
        if mentions:
            seen[(source, external_id)] = mentions
    return proposals_record(seen)


@transaction.atomic
def proposal_accept(proposal: OrganisationProposal) -> Vendor:
    """Make a vendor of ``proposal`` (or take the vendor of that name, if one appeared since)
    and link it to the events that name it; accepting twice changes nothing."""
    from tracker.stats import refresh_stats_for_events

    vendor = proposal.vendor or Vendor.objects.filter(normalized=proposal.normalized).first()
    if vendor is None:
        vendor = Vendor.objects.create(name=proposal.name)
    event_ids = list(proposal.events.values_list("pk", flat=True))
    EventVendor.objects.bulk_create(
        [EventVendor(event_id=pk, vendor=vendor, role=EventVendor.Role.VENDOR) for pk in event_ids],
        ignore_conflicts=True,
    )
    proposal.status = OrganisationProposal.Status.ACCEPTED
    proposal.vendor = vendor
    proposal.save(update_fields=["status", "vendor", "updated_at"])
    refresh_stats_for_events(event_ids)
    return vendor


def proposals_dismiss(proposals: Iterable[OrganisationProposal]) -> int:
    """Dismiss ``proposals``: their names are never proposed again. Returns how many."""
    ids = [proposal.pk for proposal in proposals]
    return OrganisationProposal.objects.filter(pk__in=ids).update(
        status=OrganisationProposal.Status.DISMISSED, updated_at=timezone.now()
    )
