"""FPDS-NG ATOM feed: every federal contract action (awards, orders, IDVs, modifications).

GSA documents the SAM.gov Contract Awards API (``scrapers.sam_awards``) as the successor of
FPDS's data services, and third parties have announced the ATOM feed's retirement. A run
whose feed has gone (HTTP 404/410, a redirect to another host, an HTML page where ATOM
was expected) ends with one line saying so and naming the ``sam_awards`` source.

One feed entry is one contract action. Its ids follow FPDS: agencyID + PIID + modNumber
(+ transactionNumber) + the referenced IDV's PIID. The same action reaches USAspending,
whose generated ids embed the same parts, so ``contract_match_key`` lives here and
``scrapers.usaspending`` builds its keys with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    Response,
    SourceUnavailable,
    VendorRef,
    modified_window,
    page_from,
)
from scrapers.text import clean_text, plain, safe_url
from scrapers.xmlsafe import (
    attr,
    children,
    find,
    local_name,
    namespace,
    parse_xml,
    text_at,
    text_of,
)

NAME = "fpds"
FEED_URL = "https://www.fpds.gov/ezsearch/FEEDS/ATOM"
FEED_VERSION = "1.5.3"
ATOM_NS = "http://www.w3.org/2005/Atom"
# Current feeds use the https URI, 1.4-era feeds the fpdsng.com one; prefixes vary (ns1, ns0).
FPDS_NAMESPACES = ("https://www.fpds.gov/FPDS", "http://www.fpdsng.com/FPDS")
NO_PARENT = "-NONE-"
RAW_XML_LIMIT = 20_000
TITLE_LIMIT = 300
MAX_AMOUNT = Decimal(10) ** 15  # no contract action comes near; larger is corrupt or hostile


class _BadEntry(Exception):
    """One entry cannot become a record; the message says why."""


# -- keys shared with USAspending -----------------------------------------------------------


def _key_part(value: str, default: str) -> str:
    """Return an id part as USAspending spells it: upper case, no spaces, default when empty."""
    value = "".join(value.split()).upper()
    return value or default


def contract_match_key(agency_id: str, piid: str, mod: str = "0", parent_piid: str = "") -> str:
    """Return the cross-source key of one contract action (award/order + modification)."""
    return ":".join(
        (
            "contract",
            _key_part(agency_id, ""),
            _key_part(piid, ""),
            _key_part(mod, "0"),
            _key_part(parent_piid, NO_PARENT),
        )
    )


def idv_match_key(agency_id: str, piid: str, mod: str = "0") -> str:
    """Return the cross-source key of one IDV action (base or modification)."""
    return ":".join(("idv", _key_part(agency_id, ""), _key_part(piid, ""), _key_part(mod, "0")))


# -- fetch ----------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    """Return ``value`` as a quoted FPDS query value (inner quotes dropped: FPDS has no escape)."""
    return '"' + " ".join(value.replace('"', " ").split()) + '"'


def _terms(query: Query) -> list[str]:
    """Return one query clause per keyword, PSC and NAICS code.

    FPDS ANDs the clauses of one query and cannot OR them, so each alternative gets its own
    paged series. Agency sweeps are left to USAspending and SAM.gov contract awards, which
    OR a list of agencies in one search: crossed here, every term would cost one series per
    buying unit and day.
    """
    terms = [f"DESCRIPTION_OF_REQUIREMENT:{_quoted(k)}" for k in query.keywords if k.strip()]
    terms += [f"PRODUCT_OR_SERVICE_CODE:{_quoted(c)}" for c in query.psc_codes if c.strip()]
    terms += [f"PRINCIPAL_NAICS_CODE:{_quoted(c)}" for c in query.naics_codes if c.strip()]
    return terms or [""]


def next_link(root: etree._Element) -> str:
    """Return the feed's rel="next" href ("" on the last page)."""
    for link in children(root, "link"):
        if link.get("rel") == "next":
            return attr(link, "href")
    return ""


def _get_feed(
    client: Client, url: str, home: str, params: dict[str, str] | None = None
) -> Response:
    """Return a feed response; raise SourceUnavailable in one line when the feed has gone."""
    try:
        response = client.get(url, params=params)
    except SourceUnavailable as exc:
        status = getattr(exc, "status", None)
        if status in (404, 410):
            raise SourceUnavailable(_gone(f"HTTP {status} at {url}")) from None
        raise
    landed = urlsplit(response.url).netloc
    if landed != home:
        raise SourceUnavailable(_gone(f"redirected from {home} to {landed}"))
    head = response.content[:2048].lstrip().lower()
    is_html = "html" in response.headers.get("Content-Type", "").lower() or head.startswith(
        (b"<!doctype html", b"<html")
    )
    if is_html and b"<feed" not in head:
        raise SourceUnavailable(_gone(f"an HTML page instead of ATOM at {url}"))
    return response


def _gone(reason: str) -> str:
    """Return the one line a run whose feed has gone ends with."""
    return f"the FPDS ATOM feed has gone ({reason}): use the sam_awards source"


def fetch(
    client: Client,
    query: Query,
    *,
    base_url: str = FEED_URL,
    today: dt.date | None = None,
) -> Iterator[Page]:
    """Yield every feed page for the query: one paged series per search term over the range.

    The range is one ``LAST_MOD_DATE`` window: a filtered term has few actions a day, so
    day windows would mostly cost one request for an empty page each. A long range is split
    by the caller (``backfill``), which also makes it resumable.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    since, until = modified_window(query, today)
    home = urlsplit(base_url).netloc
    pages = 0
    dates = f"LAST_MOD_DATE:[{since:%Y/%m/%d},{until:%Y/%m/%d}]"
    for term in _terms(query):
        params = {"FEEDNAME": "PUBLIC", "VERSION": FEED_VERSION, "s": "FPDS"}
        params["q"] = f"{dates} {term}".strip()
        response = _get_feed(client, base_url, home, params)
        seen: set[str] = set()
        while True:
            page = page_from(response, kind="feed", q=params["q"])
            yield page
            pages += 1
            if query.max_pages is not None and pages >= query.max_pages:
                return
            try:
                href = next_link(parse_xml(page.body))
            except ParseError:
                break  # parse() reports the broken page; nothing more to follow here
            # Follow next links only on the feed's own host, once each.
            if not href or urlsplit(href).netloc != home or href in seen:
                break
            seen.add(href)
            response = _get_feed(client, href, home)


# -- parse ----------------------------------------------------------------------------------


def _date(value: str, field: str) -> dt.date | None:
    """Return the date part of an FPDS timestamp ("YYYY-MM-DD HH:MM:SS"), None when empty."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise _BadEntry(f"{field} is not a date: {value[:40]!r}") from None


def _amount(value: str, field: str) -> Decimal | None:
    """Return a decimal amount (negative allowed), None when empty."""
    if not value:
        return None
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise _BadEntry(f"{field} is not a number: {value[:40]!r}") from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise _BadEntry(f"{field} is not a plausible amount: {value[:40]!r}")
    return amount


class _Paths:
    """Every element of one award/IDV by its path of local names, from a single walk.

    Looking fields up in a dictionary instead of walking the tree for each one keeps FPDS
    parsing fast (a record has some forty fields).
    """

    def __init__(self, action: etree._Element) -> None:
        self.elements: dict[tuple[str, ...], etree._Element] = {}
        self.in_vendor: dict[str, etree._Element] = {}
        self._walk(action, ())

    def _walk(self, parent: etree._Element, prefix: tuple[str, ...]) -> None:
        elements = self.elements
        for element in parent:
            tag = element.tag
            if not isinstance(tag, str):  # a comment or processing instruction
                continue
            name = tag.rpartition("}")[2]
            path = (*prefix, name)
            elements.setdefault(path, element)
            if prefix and prefix[0] == "vendor":
                self.in_vendor.setdefault(name, element)
            if len(element):
                self._walk(element, path)

    def at(self, *path: str) -> etree._Element | None:
        return self.elements.get(path)

    def text(self, *path: str) -> str:
        return text_of(self.elements.get(path))


def _agency(element: etree._Element | None, role: str) -> AgencyRef | None:
    """Return the agency an FPDS agency-id element names (department as parent), or None."""
    code = clean_text(text_of(element))
    name = clean_text(attr(element, "name"))
    if not code and not name:
        return None
    parent = None
    department_id = clean_text(attr(element, "departmentID"))
    department_name = clean_text(attr(element, "departmentName"))
    if department_id or department_name:
        parent = AgencyRef(
            name=department_name or department_id,
            code=department_id,
            code_type="fpds_department",
            role=role,
            level="federal",
        )
    return AgencyRef(
        name=name or code, code=code, code_type="subtier", parent=parent, role=role, level="federal"
    )


def _agencies(paths: _Paths) -> list[AgencyRef]:
    """Return the buying agency, plus the funding agency when it differs."""
    contracting = paths.at("purchaserInformation", "contractingOfficeAgencyID")
    funding = paths.at("purchaserInformation", "fundingRequestingAgencyID")
    refs = [ref for ref in (_agency(contracting, "buyer"),) if ref]
    funder = _agency(funding, "funder")
    if funder and (not refs or (funder.code, funder.name) != (refs[0].code, refs[0].name)):
        refs.append(funder)
    return refs


def _vendor(paths: _Paths) -> list[VendorRef]:
    """Return the vendor, with identifiers from 1.4 (DUNS only) or 1.5 (UEI) placements."""
    if paths.at("vendor") is None:
        return []

    def first(*names: str) -> str:
        for name in names:
            value = clean_text(text_of(paths.in_vendor.get(name)))
            if value:
                return value
        return ""

    name = clean_text(paths.text("vendor", "vendorHeader", "vendorName")) or first(
        "UEILegalBusinessName", "vendorLegalOrganizationName", "vendorName", "contractorName"
    )
    if not name:
        return []
    return [
        VendorRef(
            name=name,
            uei=first("UEI"),
            duns=first("DUNSNumber"),
            cage=first("cageCode"),
            parent_name=first("ultimateParentUEIName", "globalParentDUNSName"),
            parent_uei=first("ultimateParentUEI"),
            parent_duns=first("globalParentDUNSNumber"),
        )
    ]


def _ids(action: etree._Element, paths: _Paths) -> dict[str, str]:
    """Return the id parts of an award or IDV element."""
    if local_name(action) == "IDV":
        ids = paths.at("contractID", "IDVID")
        ref = None
    else:
        ids = paths.at("awardID", "awardContractID")
        ref = paths.at("awardID", "referencedIDVID")
    return {
        "agency_id": clean_text(text_at(ids, "agencyID")),
        "agency_name": clean_text(attr(find(ids, "agencyID"), "name")),
        "piid": clean_text(text_at(ids, "PIID")),
        "mod_number": clean_text(text_at(ids, "modNumber")) or "0",
        "transaction_number": clean_text(text_at(ids, "transactionNumber")) or "0",
        "ref_idv_agency_id": clean_text(text_at(ref, "agencyID")),
        "ref_idv_piid": clean_text(text_at(ref, "PIID")),
    }


def _record(entry: etree._Element, action: etree._Element) -> Record:
    """Return the record for one entry's award or IDV element; raises _BadEntry."""
    paths = _Paths(action)
    ids = _ids(action, paths)
    is_idv = local_name(action) == "IDV"
    if not ids["piid"]:
        raise _BadEntry("no PIID")
    if not ids["agency_id"]:
        raise _BadEntry(f"PIID {ids['piid']}: no agencyID")
    agency, piid, mod = ids["agency_id"], ids["piid"], ids["mod_number"]
    parent = ids["ref_idv_piid"] or NO_PARENT
    if is_idv:
        external_id = f"IDV:{agency}:{piid}:{mod}"
        match_key = idv_match_key(agency, piid, mod)
    else:
        external_id = f"{agency}:{piid}:{mod}:{ids['transaction_number']}:{parent}"
        match_key = contract_match_key(agency, piid, mod, parent)

    action_type = paths.at("contractData", "contractActionType")
    naics = paths.at("productOrServiceInformation", "principalNAICSCode")
    psc = paths.at("productOrServiceInformation", "productOrServiceCode")
    office = paths.at("purchaserInformation", "contractingOfficeID")
    fields: dict[str, Any] = {
        **ids,
        "document_type": "IDV" if is_idv else "award",
        "schema_version": attr(action, "version"),
        "signed_date": paths.text("relevantContractDates", "signedDate"),
        "effective_date": paths.text("relevantContractDates", "effectiveDate"),
        "obligated_amount": paths.text("dollarValues", "obligatedAmount"),
        "total_obligated_amount": paths.text("totalDollarValues", "totalObligatedAmount"),
        "base_and_all_options_value": paths.text("dollarValues", "baseAndAllOptionsValue"),
        "contract_action_type": text_of(action_type),
        "contract_action_type_description": attr(action_type, "description"),
        "reason_for_modification": attr(
            paths.at("contractData", "reasonForModification"), "description"
        ),
        "description": plain(paths.text("contractData", "descriptionOfContractRequirement")),
        "solicitation_id": paths.text("contractData", "solicitationID"),
        "naics": text_of(naics),
        "naics_description": attr(naics, "description"),
        "psc": text_of(psc),
        "psc_description": attr(psc, "description"),
        "contracting_office_id": text_of(office),
        "contracting_office_name": attr(office, "name"),
        "last_modified_date": paths.text("transactionInformation", "lastModifiedDate"),
        "status": attr(paths.at("transactionInformation", "status"), "description"),
    }
    try:
        date = _date(fields["signed_date"], "signedDate")
        amount = _amount(fields["obligated_amount"], "obligatedAmount")
    except _BadEntry as exc:
        raise _BadEntry(f"{external_id}: {exc}") from None
    title = plain(text_at(entry, "title"))[:TITLE_LIMIT]
    link = next(
        (x for x in children(entry, "link") if x.get("rel", "alternate") == "alternate"), None
    )
    return Record(
        source=NAME,
        external_id=external_id,
        kind="award" if mod == "0" else "modification",
        title=title or f"{fields['contract_action_type_description'] or 'Contract action'} {piid}",
        url=safe_url(attr(link, "href")),
        raw={**fields, "xml": etree.tostring(entry, encoding="unicode")[:RAW_XML_LIMIT]},
        date=date,
        summary=fields["description"],
        amount=amount,
        agencies=_agencies(paths),
        vendors=_vendor(paths),
        codes={k: fields[k] for k in ("naics", "psc") if fields[k]},
        match_key=match_key,
        extra={
            key: fields[key]
            for key in (
                "contract_action_type",
                "contract_action_type_description",
                "reason_for_modification",
                "solicitation_id",
                "last_modified_date",
                "total_obligated_amount",
                "contracting_office_id",
                "contracting_office_name",
                "naics_description",
                "psc_description",
                "ref_idv_agency_id",
                "ref_idv_piid",
                "document_type",
            )
            if fields[key]
        },
    )


def _action(entry: etree._Element, drift: set[str]) -> etree._Element | None:
    """Return the entry's <award> or <IDV> element, noting an unknown FPDS namespace."""
    content = find(entry, "content")
    for node in content if content is not None else ():
        if local_name(node) in ("award", "IDV"):
            if namespace(node) not in FPDS_NAMESPACES:
                drift.add(f"FPDS content in unexpected namespace {namespace(node)!r}")
            return node
    return None


def parse(page: Page) -> Parsed:
    """Return one record per feed entry; entries without an award/IDV or PIID are problems."""
    root = parse_xml(page.body)
    if local_name(root) != "feed":
        raise ParseError(f"expected an Atom <feed>, got <{local_name(root)[:40]}>")
    parsed = Parsed()
    drift: set[str] = set()
    if namespace(root) != ATOM_NS:
        drift.add(f"feed in unexpected namespace {namespace(root)!r}")
    for number, entry in enumerate(children(root, "entry"), start=1):
        label = f"entry {number}"
        action = _action(entry, drift)
        if action is None:
            parsed.problems.append(f"{label}: no FPDS award or IDV in <content>")
            continue
        try:
            parsed.records.append(_record(entry, action))
        except _BadEntry as exc:
            parsed.problems.append(f"{label}: {exc}")
    parsed.drift.extend(sorted(drift))
    return parsed
