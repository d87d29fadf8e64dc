"""SAM.gov notices to records: the local notice filter, search pages and description pages.

Pure and offline: ``scrapers.sam.fetch`` puts the run's ``NoticeFilter`` in each search
page's ``meta["match"]``, so that ``parse`` keeps the same notices, on replay too.

A search page gives one ``Record`` per matched notice (kind ``solicitation`` for every
notice type, award notices included: ``extra["notice_type"]`` says which, ``extra["award"]``
carries the award and ``extra["matched"]`` why it was kept). A notice's ``description`` is
only a URL; its text arrives later as a separate *description page*, which parses to a
**partial record**: same ``external_id``, only ``summary`` set, and ``extra == {"partial":
True}``. The importer merges a partial record into the existing event, copying only its
non-empty fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapers.base import (
    AgencyRef,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    VendorRef,
    load_json,
    parse_rows,
)
from scrapers.text import html_to_text, iso_date, plain, scrub
from scrapers.values import as_amount, as_dict, as_list, as_text

NAME = "sam"
PUBLIC_NOTICE_URL = "https://sam.gov/opp/{}/view"
EXPECTED_FIELDS = ("noticeId", "title", "postedDate", "type", "fullParentPathName")
PSC_PATTERN = re.compile(r"[A-Z0-9]{1,4}")
NAICS_PATTERN = re.compile(r"[0-9]{2,6}")


# ---------------------------------------------------------------- local filter


@dataclass(frozen=True, slots=True)
class NoticeFilter:
    """The query's terms, matched against a notice locally (empty: every notice matches)."""

    keywords: tuple[str, ...] = ()
    psc: tuple[str, ...] = ()
    naics: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: Query) -> NoticeFilter:
        """Return the filter for a query: its keywords, code-shaped PSC/NAICS values, agencies."""
        return cls(
            keywords=tuple(k.strip() for k in query.keywords if k.strip()),
            psc=_shaped(query.psc_codes, PSC_PATTERN),
            naics=_shaped(query.naics_codes, NAICS_PATTERN),
            agencies=tuple(a.strip() for a in query.agency_names if a.strip()),
        )

    @classmethod
    def from_meta(cls, value: Any) -> NoticeFilter | None:
        """Return the filter a search page carries in ``meta["match"]`` (None: keep all)."""
        if not isinstance(value, dict):
            return None
        return cls(
            **{
                name: tuple(str(v) for v in value.get(name) or () if isinstance(v, str))
                for name in ("keywords", "psc", "naics", "agencies")
            }
        )

    def as_meta(self) -> dict[str, list[str]]:
        """Return the filter as plain lists (page meta, saved beside replayable pages)."""
        return {
            "keywords": list(self.keywords),
            "psc": list(self.psc),
            "naics": list(self.naics),
            "agencies": list(self.agencies),
        }

    def matches(self, row: dict[str, Any]) -> list[str]:
        """Return why a notice matches ("keyword:…", "psc:…", …); empty when it does not."""
        if not (self.keywords or self.psc or self.naics or self.agencies):
            return ["all"]
        reasons = [
            f"keyword:{k}" for k in _matched_phrases(self.keywords, as_text(row.get("title")))
        ]
        psc = as_text(row.get("classificationCode")).upper()
        reasons += [f"psc:{code}" for code in self.psc if psc and psc.startswith(code)]
        naics = {as_text(row.get("naicsCode"))} | {
            as_text(c) for c in as_list(row.get("naicsCodes"))
        }
        reasons += [
            f"naics:{code}" for code in self.naics if any(n.startswith(code) for n in naics if n)
        ]
        # The path separates levels with dots, and names hold dots too ("U.S. MARSHALS"), so
        # dots count as spaces there and a name is tried with its dots dropped or spaced.
        path = _words(as_text(row.get("fullParentPathName")).replace(".", " "))
        reasons += [
            f"agency:{name}"
            for name in self.agencies
            if _matched_phrases(
                (_words(name.replace(".", "")), _words(name.replace(".", " "))), path
            )
        ]
        return reasons


def _words(text: str) -> str:
    """Return ``text`` as words separated by single spaces (punctuation dropped)."""
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _shaped(values: tuple[str, ...], pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Return the values shaped like codes (PSC rules also hold description words)."""
    return tuple(v.strip().upper() for v in values if pattern.fullmatch(v.strip().upper()))


def _matched_phrases(phrases: tuple[str, ...], text: str) -> list[str]:
    """Return the phrases found in ``text`` as whole words (any case, simple plurals)."""
    if not phrases or not text:
        return []
    return [
        phrase
        for phrase in phrases
        if re.search(rf"(?<!\w){re.escape(phrase)}(?:s|es)?(?!\w)", text, re.IGNORECASE)
    ]


# ---------------------------------------------------------------- parse


def parse(page: Page) -> Parsed:
    """Return one record per matched notice of a search page, or a description's partial record.

    A search page whose ``meta["match"]`` carries the run's filter keeps only the notices it
    matches; a page without it (saved before the filter existed) keeps every notice.
    """
    if page.body.lstrip()[:1] in (b"{", b"["):
        try:
            data = load_json(page)
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
        if isinstance(data, dict) and "opportunitiesData" in data:
            return _parse_search(data, NoticeFilter.from_meta(page.meta.get("match")))
        if isinstance(data, dict) and "description" in data:
            markup = data["description"]
            return _parse_description(page, markup if isinstance(markup, str) else "")
        raise ParseError("JSON is neither a SAM search page nor a notice description")
    if page.meta.get("kind") == "description" or description_notice_id(page):
        # The description endpoint may also answer with bare HTML or plain text.
        return _parse_description(page, page.body.decode("utf-8", errors="replace"))
    raise ParseError("not JSON, and not a description page")


def description_notice_id(page: Page) -> str:
    """Return the notice id a description page belongs to (from meta, else from its URL)."""
    notice_id = page.meta.get("notice_id")
    if isinstance(notice_id, str) and notice_id:
        return notice_id
    query = parse_qs(urlsplit(page.url).query)
    return (query.get("noticeid") or query.get("noticeId") or [""])[0]


def _parse_search(data: dict[str, Any], notice_filter: NoticeFilter | None) -> Parsed:
    """Return the records of a search page's opportunitiesData (matched notices only)."""
    rows = data["opportunitiesData"]
    if not isinstance(rows, list):
        raise ParseError("opportunitiesData is not a list")
    parsed = Parsed()
    if "totalRecords" not in data:
        parsed.drift.append("page field 'totalRecords' is missing")
    objects = [row for row in rows if isinstance(row, dict)]
    for name in EXPECTED_FIELDS:  # over every notice, kept or not
        missing = sum(1 for row in objects if name not in row)
        if missing:
            parsed.drift.append(f"notice field {name!r} missing in {missing} of {len(objects)}")
    matched: dict[int, list[str]] = {}
    if notice_filter is not None:
        matched = {id(row): notice_filter.matches(row) for row in objects}
        rows = [row for row in rows if not isinstance(row, dict) or matched[id(row)]]

    def build(notice_id: str, row: dict[str, Any]) -> Record:
        record = _notice_record(notice_id, row)
        if notice_filter is not None:
            record.extra["matched"] = matched[id(row)]
        return record

    return parse_rows(
        rows,
        parsed,
        what="notice",
        expected=(),
        id_field="noticeId",
        id_pattern=r"[A-Za-z0-9_-]{1,64}",
        build=build,
    )


def _notice_record(notice_id: str, row: dict[str, Any]) -> Record:
    """Return the record of one notice."""
    award = as_dict(row.get("award"))
    notice_type = as_text(row.get("type"))
    is_award = bool(award) or notice_type.lower() == "award notice"
    agency = _agency_chain(row)
    vendors, amount, award_extra = _award(award) if is_award else ([], None, {})
    codes = {
        key: value
        for key, value in (
            ("naics", as_text(row.get("naicsCode"))),
            ("psc", as_text(row.get("classificationCode"))),
        )
        if value
    }
    description_url = as_text(row.get("description")).replace(" ", "")
    extra: dict[str, Any] = {
        "notice_type": notice_type,
        "base_type": as_text(row.get("baseType")),
        "solicitation_number": as_text(row.get("solicitationNumber")),
        "response_deadline": as_text(row.get("responseDeadLine")),
        "set_aside": as_text(row.get("typeOfSetAside")),
        "set_aside_description": as_text(row.get("typeOfSetAsideDescription")),
        "active": as_text(row.get("active")).lower() == "yes",
        "description_url": description_url if description_url.startswith("http") else "",
        "resource_links": [
            as_text(link) for link in as_list(row.get("resourceLinks")) if as_text(link)
        ],
        "place_of_performance": _place(row.get("placeOfPerformance")),
        "ui_link": as_text(row.get("uiLink")),
        "naics_codes": [as_text(code) for code in as_list(row.get("naicsCodes")) if as_text(code)],
    }
    if is_award:
        extra["award"] = award_extra
    title = (
        plain(as_text(row.get("title")))
        or extra["solicitation_number"]
        or f"SAM notice {notice_id}"
    )
    return Record(
        source=NAME,
        external_id=notice_id,
        kind="solicitation",
        title=title,
        # uiLink points at the logged-in workspace view; the public view needs no account.
        url=PUBLIC_NOTICE_URL.format(notice_id),
        raw=scrub(row),
        date=iso_date(row.get("postedDate")),
        amount=amount,
        agencies=[agency] if agency else [],
        vendors=vendors,
        codes=codes,
        extra=extra,
    )


def _agency_chain(row: dict[str, Any]) -> AgencyRef | None:
    """Return the deepest office of the notice's agency path, with parent links up to the top."""
    names = [n.strip() for n in _path(row.get("fullParentPathName")) if n.strip()]
    codes = [c.strip() for c in _path(row.get("fullParentPathCode")) if c.strip()]
    if not names:  # v1 responses named the levels separately
        names = [
            as_text(row.get(k)) for k in ("department", "subTier", "office") if as_text(row.get(k))
        ]
    if len(codes) != len(names):
        # A dot inside a name (e.g. "U.S. ...") breaks the split; keep only the department code.
        codes = (codes[:1] or [""]) + [""] * (len(names) - 1)
    parent = None
    last = len(names) - 1
    for depth, (name, code) in enumerate(zip(names, codes, strict=True)):
        parent = AgencyRef(
            name=name,
            code=code,
            code_type=_code_type(depth, last) if code else "",
            parent=parent,
            role="buyer",
            level="federal",
        )
    office = as_dict(row.get("officeAddress"))
    if parent is not None:
        parent.state = as_text(office.get("state"))
        parent.place = as_text(office.get("city"))
    return parent


def _code_type(depth: int, last: int) -> str:
    """Return the code type of a level of SAM's agency path (department, sub-tier, office)."""
    if depth == 0:
        return "toptier"
    if depth == 1:
        return "subtier"
    return "office" if depth == last else ""


def _award(award: dict[str, Any]) -> tuple[list[VendorRef], Decimal | None, dict[str, Any]]:
    """Return the awardee, the amount and the award facts of an award notice."""
    awardee = as_dict(award.get("awardee"))
    location = as_dict(awardee.get("location"))
    name = as_text(awardee.get("name"))
    vendors = []
    if name:
        vendors.append(
            VendorRef(
                name=name,
                uei=as_text(awardee.get("ueiSAM")),
                duns=as_text(awardee.get("duns")),
                cage=as_text(awardee.get("cageCode")),
                role="awardee",
            )
        )
    facts = {
        "date": as_text(award.get("date")),
        "number": as_text(award.get("number")),
        "amount": as_text(award.get("amount")),
        "awardee": name,
        # Free text as entered: the sample award has country "GA" (the state) for Atlanta.
        "awardee_location": {
            key: as_text(as_dict(location.get(key)).get("name"))
            for key in ("city", "state", "country")
        }
        | {"zip": as_text(location.get("zip"))},
    }
    return vendors, as_amount(award.get("amount")), facts


def _place(value: Any) -> dict[str, str]:
    """Return a place of performance flattened to non-empty names and codes."""
    place = as_dict(value)
    flat = {"zip": as_text(place.get("zip")), "street": as_text(place.get("streetAddress"))}
    for key in ("city", "state", "country"):
        part = as_dict(place.get(key))
        flat[key] = as_text(part.get("name"))
        flat[f"{key}_code"] = as_text(part.get("code"))
    return {key: value for key, value in flat.items() if value}


def _parse_description(page: Page, markup: str) -> Parsed:
    """Return the partial record carrying a notice's description text."""
    notice_id = description_notice_id(page)
    if not notice_id:
        raise ParseError("description page without a notice id (no meta and no noticeid in URL)")
    text = html_to_text(markup)
    if not text or text.lower() == "description not found":
        return Parsed()
    record = Record(
        source=NAME,
        external_id=notice_id,
        kind="solicitation",
        title="",
        url=PUBLIC_NOTICE_URL.format(notice_id),
        raw={"notice_id": notice_id, "description": text},
        summary=text,
        extra={"partial": True},
    )
    return Parsed(records=[record])


def _path(value: Any) -> list[str]:
    """Return the levels of a dot-separated path string (none for any other type)."""
    return as_text(value).split(".") if isinstance(value, str) else []
