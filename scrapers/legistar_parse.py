"""Legistar pages to records: one record per council matter (legislation), pure and offline.

A matter's record is built from the matter row, its histories (the votes and actions) and its
attachments; ``scrapers.legistar.fetch`` puts the histories and attachments of every matter of
a page in the page's ``meta`` (keyed by MatterId), with the council the page came from. A page
replayed without them still parses: the record then has what the matter row says.

Events and agenda items (``/events``, ``/events/{id}/eventitems``) give no records: they lead
``fetch`` to the matters a committee heard, whose own pages then do.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from scrapers.base import (
    AgencyRef,
    Page,
    Parsed,
    ParseError,
    Record,
    VendorRef,
    field_drift,
    load_json,
    parse_rows,
)
from scrapers.text import clean_text, int_id, iso_date, plain, safe_url, scrub

NAME = "legistar"
MATTER_FIELDS = (
    "MatterId",
    "MatterGuid",
    "MatterFile",
    "MatterTitle",
    "MatterTypeName",
    "MatterStatusName",
    "MatterBodyName",
    "MatterIntroDate",
    "MatterPassedDate",
    "MatterLastModifiedUtc",
)
EVENT_FIELDS = ("EventId", "EventBodyName", "EventDate", "EventLastModifiedUtc")
ITEM_FIELDS = ("EventItemId", "EventItemMatterId", "EventItemTitle")

# What a matter is, from its title. A report of a surveillance ordinance (an impact report,
# an annual report, a use policy) that buys nothing is a report; a request for proposals
# that awards nothing yet is a solicitation; a contract, purchase, grant or renewal is an
# award. "Pursuant to RFP No. 12" in an award's title does not make it a solicitation.
_REPORT = re.compile(
    r"\b(?:surveillance\s+(?:impact\s+)?reports?|impact\s+reports?|annual\s+reports?|"
    r"use\s+polic(?:y|ies)|surveillance\s+technology\s+reports?)\b",
    re.IGNORECASE,
)
_BUYING = re.compile(
    r"\b(?:contracts?|agreements?|purchas\w*|procur\w*|acquisition|acquir\w*|awards?|"
    r"renew\w*|leases?|subscriptions?|sole[\s-]source|grants?|memorandum\s+of\s+understanding|"
    r"MOU)\b",
    re.IGNORECASE,
)
_SOLICITATION = re.compile(
    r"\b(?:requests?\s+for\s+(?:proposals?|qualifications|bids?|information)|RFP|RFQ|RFI|"
    r"invitations?\s+(?:for|to)\s+bid|solicitations?)\b",
    re.IGNORECASE,
)
_DEAL = re.compile(
    r"\b(?:award\w*|(?:agreement|contract)s?\s+with|enter\w*\s+into|execut\w*)\b", re.IGNORECASE
)

# Outcomes by the words Legistar clients use for a matter's status and its actions.
_PASSED = re.compile(
    r"\b(?:pass\w*|adopt\w*|approv\w*|enact\w*|sign\w*|ratif\w*|receiv\w*)\b", re.I
)
_FAILED = re.compile(r"\b(?:fail\w*|defeat\w*|reject\w*|den(?:y|ied)|veto\w*|died)\b", re.I)
# "Received and Filed" is how a council takes note of a report, not a withdrawal.
_WITHDRAWN = re.compile(r"\b(?:withdr[ae]wn?|withdrew|tabled)\b|(?<!received and )\bfiled\b", re.I)

# "not to exceed $1,250,000", "in an amount of $95,000.00", "$1.2 million".
_MONEY = r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s*(million|billion)\b)?"
_STATED_AMOUNT = re.compile(
    r"(?:not\s+to\s+exceed|NTE|in\s+(?:an|the)\s+(?:total\s+)?amount\s+(?:of\s+|not\s+to\s+"
    r"exceed\s+)?|up\s+to|totall?ing|total\s+of|for\s+a\s+total\s+of)\s*(?:\w+\s+)?\(?" + _MONEY,
    re.IGNORECASE,
)
_ANY_AMOUNT = re.compile(_MONEY, re.IGNORECASE)

# A counterparty named with its legal form ("with Flock Group, Inc. for ..."): the capitalised
# words before the form, back to the first connecting word.
_LEGAL_FORM = re.compile(
    r",?\s+(?:Inc|Incorporated|LLC|L\.L\.C|Corp|Corporation|Company|Co|Ltd|L\.?P)\b\.?"
)
_NAME_WORD = re.compile(r"^[A-Z0-9][\w&.'\u2019/-]*,?$")
_CONNECTORS = frozenset(
    {
        "with",
        "from",
        "and",
        "to",
        "for",
        "between",
        "by",
        "into",
        "of",
        "the",
        "a",
        "an",
        "agreement",
        "contract",
        "purchase",
        "amendment",
        "bidder",
        "vendor",
        "company",
        "firm",
    }
)
MAX_NAME_WORDS = 5

# Federal programmes a grant acceptance names, by the phrases councils write, with the
# assistance listing (tracker/starter/grant_programs.json) and the funding department.
# California's "State COPS" grant (Citizens' Option for Public Safety) is not the DOJ's
# COPS Office: Oakland matter 18-1634 (../shared/fixtures/legistar/oakland_event-8172_…).
_DOJ = AgencyRef(name="Department of Justice", acronym="DOJ", level="federal", role="funder")
_DHS = AgencyRef(
    name="Department of Homeland Security", acronym="DHS", level="federal", role="funder"
)
GRANT_PROGRAMMES: tuple[tuple[re.Pattern[str], str, str, AgencyRef], ...] = (
    (
        re.compile(r"\b(?:Justice\s+Assistance\s+Grant|JAG|Byrne(?!\s+Competitive))\b"),
        "16.738",
        "Edward Byrne Memorial Justice Assistance Grant Program",
        _DOJ,
    ),
    (
        re.compile(r"\bByrne\s+Competitive\b"),
        "16.751",
        "Edward Byrne Memorial Competitive Grant Program",
        _DOJ,
    ),
    (
        re.compile(r"(?<!State )\bCOPS\b(?!\s+\(?Citizens)|\bCommunity\s+Oriented\s+Policing"),
        "16.710",
        "Public Safety Partnership and Community Policing Grants",
        _DOJ,
    ),
    (
        re.compile(r"\bBody[\s-]Worn\s+Camera\s+Policy\s+and\s+Implementation\b", re.I),
        "16.835",
        "Body Worn Camera Policy and Implementation",
        _DOJ,
    ),
    (re.compile(r"\bSTOP\s+School\s+Violence\b", re.I), "16.839", "STOP School Violence", _DOJ),
    (re.compile(r"\bEquitable\s+Sharing\b", re.I), "16.922", "Equitable Sharing Program", _DOJ),
    (
        re.compile(
            r"\b(?:Urban\s+Areas?\s+Security\s+Initiative|UASI|State\s+Homeland\s+Security\s+"
            r"(?:Grant\s+)?Program|SHSP|Homeland\s+Security\s+Grant\s+Program|HSGP|Operation\s+"
            r"Stonegarden)\b",
            re.I,
        ),
        "97.067",
        "Homeland Security Grant Program",
        _DHS,
    ),
    (
        re.compile(r"\bPort\s+Security\s+Grant\b", re.I),
        "97.056",
        "Port Security Grant Program",
        _DHS,
    ),
    (
        re.compile(r"\b(?:Transit|Rail\s+and\s+Transit)\s+Security\s+Grant\b", re.I),
        "97.075",
        "Rail and Transit Security Grant Program",
        _DHS,
    ),
)
_LISTING = re.compile(
    r"\b(?:CFDA|Assistance\s+Listing)(?:\s+(?:No\.?|Number|#))?\s*(\d{2}\.\d{3})\b"
)
# DOJ award numbers as councils write them: 2019-DJ-BX-0123 (to FY2019) and, since the Office
# of Justice Programs' new numbering, 15PBJA-23-GG-01234-JAGX (COPS: 15JCOPS-21-GG-02301-SPPS).
# USAspending lists the same award without the hyphens (FAIN 15PBJA23GG01234JAGX).
_FAIN = re.compile(
    r"\b(\d{2,4}-[A-Z]{2}-[A-Z]{2}-\d{4}|\d{2}[A-Z]{4,5}-\d{2}-[A-Z]{2}-\d{5}-[A-Z]{4})\b"
)


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    text = plain(value)
    # NYC's MatterNotes hold RTF source, not prose.
    return "" if text.startswith("{\\rtf") else text


def client_of(page: Page) -> str:
    """The Legistar client a page came from: ``meta["client"]``, else the URL's ``/v1/{client}``."""
    client = page.meta.get("client")
    if isinstance(client, str) and client:
        return client
    parts = [p for p in urlsplit(page.url).path.split("/") if p]
    if "v1" in parts and parts.index("v1") + 1 < len(parts):
        return parts[parts.index("v1") + 1].lower()
    return ""


def matter_kind(title: str) -> str:
    """award, solicitation, report or other, from a matter's title (see the patterns above)."""
    buying = _BUYING.search(title)
    if _REPORT.search(title) and not buying:
        return "report"
    if _SOLICITATION.search(title) and not _DEAL.search(title):
        return "solicitation"
    return "award" if buying else "other"


def stated_amount(text: str) -> Decimal | None:
    """The amount a title states: a "not to exceed" (or like) amount, else its only amount."""
    found = _STATED_AMOUNT.search(text)
    if found:
        return _money(*found.groups())
    amounts = {_money(*m.groups()) for m in _ANY_AMOUNT.finditer(text)}
    amounts.discard(None)
    return amounts.pop() if len(amounts) == 1 else None


def _money(whole: str, cents: str | None, scale: str | None) -> Decimal | None:
    try:
        value = Decimal(whole.replace(",", "") + (f".{cents}" if cents else ""))
    except InvalidOperation:
        return None
    if scale:
        value *= Decimal(10**6 if scale.lower() == "million" else 10**9)
    return value


def named_counterparties(text: str) -> list[str]:
    """Companies a title names with their legal form, as written ("Flock Group, Inc.")."""
    names: list[str] = []
    for form in _LEGAL_FORM.finditer(text):
        words = text[: form.start()].split()
        picked: list[str] = []
        for word in reversed(words):
            bare = word.rstrip(",")
            if (
                len(picked) >= MAX_NAME_WORDS
                or bare.lower() in _CONNECTORS
                or not _NAME_WORD.match(word)
                or (picked and word.endswith(","))
            ):
                break
            picked.insert(0, bare)
        if picked:
            name = " ".join(picked) + text[form.start() : form.end()].rstrip()
            if name not in names:
                names.append(name.strip(" ,"))
    return names


def grant_programmes(text: str) -> list[tuple[str, str, AgencyRef]]:
    """(assistance listing, programme name, funder) of each federal programme ``text`` names."""
    found: dict[str, tuple[str, str, AgencyRef]] = {}
    for pattern, number, name, funder in GRANT_PROGRAMMES:
        if pattern.search(text):
            found.setdefault(number, (number, name, funder))
    for number in _LISTING.findall(text):
        funder = _DOJ if number.startswith("16.") else _DHS if number.startswith("97.") else None
        if funder is not None:
            found.setdefault(number, (number, "", funder))
    return sorted(found.values(), key=lambda item: item[0])


def actions(histories: Any) -> list[dict[str, Any]]:
    """A matter's actions, oldest first, each once (some clients list a vote twice: Chicago
    matter 38768 has two "Passed" rows on 2013-05-08, ../shared/fixtures/legistar/)."""
    rows = (
        [row for row in histories if isinstance(row, dict)] if isinstance(histories, list) else []
    )
    seen: set[tuple] = set()
    found = []
    for row in rows:
        action = {
            "date": (iso_date(row.get("MatterHistoryActionDate")) or dt.date.min).isoformat(),
            "body": _text(row, "MatterHistoryActionBodyName"),
            "action": _text(row, "MatterHistoryActionName"),
            "result": _text(row, "MatterHistoryPassedFlagName"),
            "tally": _text(row, "MatterHistoryTally"),
        }
        key = (action["date"], action["body"], action["action"], action["result"])
        if key in seen or not (action["action"] or action["result"]):
            continue
        seen.add(key)
        found.append(action)
    return sorted(found, key=lambda a: a["date"])


def outcome(status: str, history: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """(passed | failed | withdrawn | pending, the action that decided it).

    The matter's status says where it stands; a committee's "Pass" that forwards it to the
    council is not its approval, so the deciding action is the last one agreeing with it.
    """
    verdict = "pending"
    if _WITHDRAWN.search(status):
        verdict = "withdrawn"
    elif _FAILED.search(status):
        verdict = "failed"
    elif _PASSED.search(status):
        verdict = "passed"
    for action in reversed(history):
        words = f"{action['action']} {action['result']}"
        if verdict == "pending" and (_FAILED.search(action["result"]) or _WITHDRAWN.search(words)):
            verdict = "withdrawn" if _WITHDRAWN.search(words) else "failed"
        if (
            (verdict == "passed" and action["result"].lower() == "pass")
            or (verdict == "failed" and _FAILED.search(words))
            or (verdict == "withdrawn" and _WITHDRAWN.search(words))
        ):
            return verdict, action
    return verdict, None


def _attachments(rows: Any) -> list[dict[str, str]]:
    """Public attachments as {name, url}, in the clerk's order."""
    if not isinstance(rows, list):
        return []
    shown = [
        row
        for row in rows
        if isinstance(row, dict) and row.get("MatterAttachmentShowOnInternetPage") is not False
    ]
    shown.sort(
        key=lambda r: (_int(r.get("MatterAttachmentSort")), _int(r.get("MatterAttachmentId")))
    )
    found = []
    for row in shown:
        url = safe_url(row.get("MatterAttachmentHyperlink"))
        if url:
            found.append({"name": _text(row, "MatterAttachmentName"), "url": url})
    return found


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def matter_url(client: str, matter_id: str, guid: str) -> str:
    """The matter's public page on ``{client}.legistar.com``."""
    if not client:
        return ""
    if guid:
        return f"https://{client}.legistar.com/LegislationDetail.aspx?ID={matter_id}&GUID={guid}"
    return f"https://{client}.legistar.com/Legislation.aspx"


def council_agencies(council: Any) -> list[AgencyRef]:
    """The city (or county) and its police as buyers, from the council in a page's meta."""
    if not isinstance(council, dict):
        return []
    found = []
    for key in ("jurisdiction", "police"):
        ref = _agency_ref(council.get(key))
        if ref is not None:
            found.append(ref)
    return found


def _agency_ref(data: Any) -> AgencyRef | None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        return None
    fields = ("name", "acronym", "level", "state", "place", "agency_type")
    return AgencyRef(
        **{name: str(data.get(name) or "") for name in fields},
        parent=_agency_ref(data.get("parent")),
        role="buyer",
    )


def matter_record(
    client: str,
    matter: dict[str, Any],
    *,
    histories: Any = None,
    attachments: Any = None,
    council: Any = None,
) -> Record:
    """The record of one matter; raises ValueError when it has no usable id.

    Idempotent by ``{client}:{MatterId}``: the same matter found by the title sweep and on a
    committee's agenda is one record, and a later vote changes it (so its event updates).
    """
    matter_id = int_id(matter.get("MatterId"))
    if not matter_id or not client:
        raise ValueError(f"matter {str(matter.get('MatterId'))[:40]!r}: no usable id or client")
    title = _text(matter, "MatterTitle") or _text(matter, "MatterName")
    name = _text(matter, "MatterName")
    status = _text(matter, "MatterStatusName")
    history = actions(histories)
    verdict, deciding = outcome(status, history)
    files = _attachments(attachments)
    passed = iso_date(matter.get("MatterPassedDate"))
    decided = dt.date.fromisoformat(deciding["date"]) if deciding else None
    if decided == dt.date.min:
        decided = None
    latest = dt.date.fromisoformat(history[-1]["date"]) if history else None
    date = (passed if verdict == "passed" else None) or decided
    date = date or (latest if latest != dt.date.min else None)
    date = (
        date or iso_date(matter.get("MatterAgendaDate")) or iso_date(matter.get("MatterIntroDate"))
    )
    summary_text = _text(matter, "MatterEXText5")  # NYC: the bill's summary
    text = "\n".join(
        dict.fromkeys(
            part for part in (title, name, summary_text, *(f["name"] for f in files)) if part
        )
    )
    programmes = grant_programmes(text)
    decided_line = {
        "passed": "Approved",
        "failed": "Failed",
        "withdrawn": "Withdrawn or filed",
        "pending": "Pending",
    }[verdict]
    if deciding:
        where = f"{deciding['body']}, " if deciding["body"] else ""
        decided_line += f" ({where}{deciding['date']}: {deciding['action'] or deciding['result']})"
    file = _text(matter, "MatterFile")
    kind_name = _text(matter, "MatterTypeName")
    summary = " · ".join(
        part
        for part in (
            f"{decided_line}.",
            f"{kind_name} {file}".strip(),
            f"status {status}" if status else "",
            "; ".join(f"{p[1] or 'assistance listing ' + p[0]} ({p[0]})" for p in programmes),
        )
        if part
    )
    amount = stated_amount(title)
    award_numbers = sorted(set(_FAIN.findall(text)))
    return Record(
        source=NAME,
        external_id=f"{client}:{matter_id}",
        kind=matter_kind(title),
        title=title or f"Legistar {client} matter {file or matter_id}",
        url=matter_url(client, matter_id, clean_text(matter.get("MatterGuid"))),
        raw=scrub({"matter": matter, "histories": histories, "attachments": attachments}),
        date=date,
        summary=summary,
        text=text,
        amount=amount,
        agencies=[*council_agencies(council), *(p[2] for p in programmes)],
        vendors=[VendorRef(name=n) for n in named_counterparties(title)],
        # Kept on the event (``extra`` is not stored): the event page links the federal grant.
        codes={
            key: "; ".join(values)
            for key, values in (
                ("assistance_listing", [p[0] for p in programmes]),
                ("award_number", award_numbers),
            )
            if values
        },
        extra={
            "client": client,
            "matter_id": matter_id,
            "file": file,
            "type": kind_name,
            "status": status,
            "outcome": verdict,
            "body": _text(matter, "MatterBodyName"),
            "passed_date": passed.isoformat() if passed else "",
            "actions": history,
            "attachments": files,
            "assistance_listings": [p[0] for p in programmes],
            "grant_programmes": [p[1] for p in programmes if p[1]],
            "award_numbers": award_numbers,
        },
    )


def _by_id(meta: dict[str, Any], key: str, matter_id: Any) -> Any:
    table = meta.get(key)
    return table.get(str(matter_id)) if isinstance(table, dict) else None


def parse(page: Page) -> Parsed:
    """Records of a matters page (a list, or one matter); events and agenda items give none.

    Matters the clerk hides from the web (``MatterRestrictViewViaWeb``) are left out, and so
    are those the sweep found only inside other words (``outside_words``, see ``legistar``).
    """
    data = load_json(page)
    client = client_of(page)
    council = page.meta.get("council")
    if isinstance(data, dict) and ("MatterId" in data or "EventId" in data):
        data = [data]
    if not isinstance(data, list):
        raise ParseError("not a Legistar list (a bare JSON array) or a matter")
    parsed = Parsed()
    objects = [row for row in data if isinstance(row, dict)]
    if objects and "MatterId" in objects[0]:
        outside = {str(i) for i in page.meta.get("outside_words") or ()}
        public = [
            r
            for r in data
            if not (
                isinstance(r, dict)
                and (r.get("MatterRestrictViewViaWeb") or str(r.get("MatterId")) in outside)
            )
        ]
        return parse_rows(
            public,
            parsed,
            what="matter",
            expected=MATTER_FIELDS,
            id_field="MatterId",
            id_pattern=r"\d{1,12}",
            build=lambda key, row: matter_record(
                client,
                row,
                histories=_by_id(page.meta, "histories", key),
                attachments=_by_id(page.meta, "attachments", key),
                council=council,
            ),
        )
    if objects and "EventItemId" in objects[0]:
        parsed.drift.extend(field_drift(data, ITEM_FIELDS, "agenda item"))
    elif objects and "EventId" in objects[0]:
        parsed.drift.extend(field_drift(data, EVENT_FIELDS, "event"))
    elif objects and not any(
        k.startswith(("MatterHistory", "MatterAttachment")) for k in objects[0]
    ):
        raise ParseError("not a Legistar matters, events or agenda items page")
    return parsed


def agenda_matter_ids(page: Page) -> list[str]:
    """The matters an agenda page's items take up (procedural lines have none), in order."""
    try:
        data = load_json(page)
    except ParseError:
        return []
    rows = data if isinstance(data, list) else []
    ids = [int_id(row.get("EventItemMatterId")) for row in rows if isinstance(row, dict)]
    return list(dict.fromkeys(i for i in ids if i))
