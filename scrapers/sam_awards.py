"""SAM.gov Contract Awards API v1: every federal contract action, FPDS's successor.

GSA documents this API as the source of the Award and IDV data the FPDS ATOM feed served
(GSA/open-gsa-redesign ``_apidocs/contract-awards.md``, with a variance document against
the FPDS legacy API). One row of ``awardSummary`` is one contract action, keyed like an
FPDS entry (``contractId``: subtier + PIID + modification + transaction + referenced IDV),
so its ``match_key`` comes from ``scrapers.fpds`` and an action reported by USAspending,
FPDS and SAM.gov is one event.

Fetch: ``GET /contract-awards/v1/search`` with ``api_key`` and
``lastModifiedDate=[mm/dd/yyyy,mm/dd/yyyy]`` (yesterday when the query names no dates),
``limit=100`` (the documented maximum; 10 by default). The docs call ``offset`` a "page
index" and refuse ``offset x limit`` above 400,000, so offset counts pages. A query can
page through only its first 400,000 records: when ``totalRecords`` passes that, the date
window is split in two and each half searched again. Paging stops at a short page, a page
with nothing new, or once the rows reach ``totalRecords``; a 204 (no data) or a body
without ``awardSummary`` (``{}``) ends a series.

Scope, in the fewest requests the documented syntax allows (``~`` ORs values of one
parameter; parameters are ANDed):

* agency sweep: ``contractingSubtierCode=7012~7014~…`` with
  ``productOrServiceCode=1550~5836~…`` (up to 100 PSC codes), and a second series with
  ``naicsCode=…`` when NAICS codes are tracked (PSC AND NAICS would miss rows matching
  only one). The parameter table shows ``~`` for PSC, NAICS and UEI values only; if the API
  refuses it for subtier codes (HTTP 400), the sweep falls back to one series per code;
* vendor sweep: ``awardeeUniqueEntityId=UEI1~UEI2~…``, 100 UEIs a request.

A free key (10 requests a day, shared with the ``sam`` source) covers a daily run of the
starter taxonomy in 2-3 requests (agency x PSC, vendors; more when a day's matches exceed
100 rows). A key with a SAM role (1,000 a day) fetches up to 100,000 actions a day.
When the shared quota is spent (``QuotaExhausted``) fetching stops quietly, keeping every
page fetched.

Not covered: a public key sees "revealed" data only, where DoD actions appear 90 days after
signing; if that release does not change ``lastModifiedDate``, the daily window misses them
and a backfill over that period (``--since``) picks them up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    QuotaExhausted,
    Record,
    SourceNotConfigured,
    SourceUnavailable,
    VendorRef,
    field_drift,
    load_json,
    modified_window,
    page_from,
)
from scrapers.fpds import NO_PARENT, contract_match_key, idv_match_key
from scrapers.sam_parse import NAICS_PATTERN, PSC_PATTERN
from scrapers.text import clean_text, plain
from scrapers.values import as_dict, as_list, as_text

NAME = "sam_awards"
SEARCH_URL = "https://api.sam.gov/contract-awards/v1/search"
PAGE_LIMIT = 100
RECORD_CAP = 400_000  # "You may only page through the first 400,000 records"
VALUES_PER_PARAMETER = 100  # "up to 100 values" for PSC, NAICS and UEI lists
TITLE_LIMIT = 300
MAX_AMOUNT = Decimal(10) ** 15
MISSING_KEY = "SAM_API_KEY is not set: the sam_awards source needs a free API key from SAM.gov"
EXPECTED_FIELDS = ("contractId", "coreData", "awardDetails")
SUBTIER = "contractingSubtierCode"

log = logging.getLogger(__name__)


# -- fetch ----------------------------------------------------------------------------------


def _joined(values: tuple[str, ...], size: int = VALUES_PER_PARAMETER) -> list[str]:
    """Return the distinct values joined with ``~``, at most ``size`` to a string."""
    unique = list(dict.fromkeys(v for v in values if v))
    return ["~".join(unique[i : i + size]) for i in range(0, len(unique), size)]


def search_filters(query: Query) -> list[dict[str, str]]:
    """Return the filter parameters of each request series (without dates and paging)."""
    psc = tuple(c.strip().upper() for c in query.psc_codes if PSC_PATTERN.fullmatch(c.strip()))
    naics = tuple(c.strip() for c in query.naics_codes if NAICS_PATTERN.fullmatch(c.strip()))
    codes = [{"productOrServiceCode": v} for v in _joined(psc)]
    codes += [{"naicsCode": v} for v in _joined(naics)]
    subtiers = "~".join(dict.fromkeys(c.strip() for c in query.agency_codes if c.strip()))
    series = [{SUBTIER: subtiers, **c} for c in codes or [{}]] if subtiers else []
    series += [{"awardeeUniqueEntityId": v} for v in _joined(query.vendor_ueis)]
    if subtiers:
        series += [
            {SUBTIER: subtiers, "awardeeUniqueEntityId": v} for v in _joined(query.unit_vendor_ueis)
        ]
    if not subtiers and not query.vendor_ueis:
        series = codes or [{}]
    return series


def fetch(
    client: Client,
    query: Query,
    *,
    base_url: str = SEARCH_URL,
    today: dt.date | None = None,
) -> Iterator[Page]:
    """Yield every search page of every series over the window, until done or quota spent."""
    if not query.api_key:
        raise SourceNotConfigured(MISSING_KEY)
    today = today or dt.datetime.now(dt.UTC).date()
    since, until = modified_window(query, today)
    pending = [(f, since, until) for f in search_filters(query)]
    pages = 0
    try:
        while pending:
            filters, start, end = pending.pop(0)
            series = _series(client, base_url, query.api_key, filters, start, end)
            try:
                for page in series:
                    yield page
                    pages += 1
                    if query.max_pages is not None and pages >= query.max_pages:
                        return
            except _Split as split:
                pending[:0] = split.parts
    except QuotaExhausted as exc:
        log.warning("sam_awards: stopping, the shared daily quota is spent (%s)", exc)


class _Split(Exception):
    """A series must be searched again as ``parts`` (each a filters, start, end triple)."""

    def __init__(self, parts: list[tuple[dict[str, str], dt.date, dt.date]]) -> None:
        super().__init__(f"split into {len(parts)}")
        self.parts = parts


def _series(
    client: Client,
    url: str,
    api_key: str,
    filters: dict[str, str],
    start: dt.date,
    end: dt.date,
) -> Iterator[Page]:
    """Yield the pages of one series; raise _Split when it must be searched in parts."""
    params = {
        **filters,
        "lastModifiedDate": f"[{start:%m/%d/%Y},{end:%m/%d/%Y}]",
        "limit": PAGE_LIMIT,
        "api_key": api_key,
    }
    seen: set[str] = set()
    offset = 0
    while offset * PAGE_LIMIT <= RECORD_CAP:
        try:
            response = client.get(url, params={**params, "offset": offset})
        except SourceUnavailable as exc:
            if (
                offset == 0
                and getattr(exc, "status", None) == 400
                and "~" in filters.get(SUBTIER, "")
            ):
                log.warning("sam_awards: subtier codes refused as one list; one series per code")
                codes = filters[SUBTIER].split("~")
                raise _Split([({**filters, SUBTIER: c}, start, end) for c in codes]) from None
            raise
        if response.status_code == 204 or not response.content.strip():
            return
        page = page_from(response, kind="search")  # the client's URL has the key redacted
        rows, total = _rows_and_total(response.content)
        if offset == 0 and total is not None and total > RECORD_CAP and start < end:
            middle = start + (end - start) // 2
            log.info(
                "sam_awards: %d records from %s to %s pass the 400,000 cap; splitting",
                total,
                start,
                end,
            )
            yield page
            raise _Split([(filters, start, middle), (filters, middle + dt.timedelta(days=1), end)])
        yield page
        keys = {_row_key(row) for row in rows}
        new = keys - seen
        seen |= keys
        if not new or len(rows) < PAGE_LIMIT or (total is not None and len(seen) >= total):
            return
        offset += 1
    log.warning("sam_awards: stopped at the 400,000-record cap (%s)", filters)


def _row_key(row: dict[str, Any]) -> str:
    """Return a row's contractId as text (what tells one action from another)."""
    return repr(sorted(as_dict(row.get("contractId")).items()))


def _rows_and_total(body: bytes) -> tuple[list[dict[str, Any]], int | None]:
    """Return the rows and totalRecords of a search body (empty when unreadable)."""
    try:
        data = load_json(Page(url="", body=body))
    except ParseError:
        return [], None
    if not isinstance(data, dict) or not isinstance(data.get("awardSummary"), list):
        return [], None
    rows = [row for row in data["awardSummary"] if isinstance(row, dict)]
    total = as_text(data.get("totalRecords"))  # a string in the documented responses
    return rows, int(total) if total.isdigit() else None


# -- parse ----------------------------------------------------------------------------------


def parse(page: Page) -> Parsed:
    """Return one record per awardSummary row; rows without a PIID or agency are problems."""
    data = load_json(page)
    if data == {}:
        return Parsed()
    if not isinstance(data, dict) or not isinstance(data.get("awardSummary"), list):
        raise ParseError("not a SAM.gov contract awards page (no awardSummary list)")
    parsed = Parsed()
    if "totalRecords" not in data:
        parsed.drift.append("page field 'totalRecords' is missing")
    rows = data["awardSummary"]
    parsed.drift.extend(field_drift(rows, EXPECTED_FIELDS, "award"))
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            parsed.problems.append(f"award #{index}: not an object")
            continue
        external_id = _external_id(row)
        if not external_id:
            parsed.problems.append(f"award #{index}: no contractId subtier code or PIID")
            continue
        try:
            parsed.records.append(_record(external_id, row))
        except (ValueError, TypeError, RecursionError) as exc:
            parsed.problems.append(f"award {external_id}: {exc}")
    return parsed


def _ids(row: dict[str, Any]) -> dict[str, str]:
    """Return the id parts of a row's contractId, as FPDS names them."""
    ids = as_dict(row.get("contractId"))
    return {
        "agency_id": as_text(as_dict(ids.get("subtier")).get("code")),
        "agency_name": as_text(as_dict(ids.get("subtier")).get("name")),
        "piid": as_text(ids.get("piid")),
        "mod_number": as_text(ids.get("modificationNumber")) or "0",
        "transaction_number": as_text(ids.get("transactionNumber")) or "0",
        "ref_idv_agency_id": as_text(as_dict(ids.get("referencedIDVSubtier")).get("code")),
        "ref_idv_piid": as_text(ids.get("referencedIDVPiid")),
    }


def _is_idv(row: dict[str, Any]) -> bool:
    return as_text(as_dict(row.get("coreData")).get("awardOrIDV")).upper() == "IDV"


def _external_id(row: dict[str, Any]) -> str:
    """Return the FPDS-style id of a row ("" when it lacks an agency or PIID)."""
    ids = _ids(row)
    if not ids["agency_id"] or not ids["piid"]:
        return ""
    agency, piid, mod = ids["agency_id"], ids["piid"], ids["mod_number"]
    if _is_idv(row):
        return f"IDV:{agency}:{piid}:{mod}"
    parent = ids["ref_idv_piid"] or NO_PARENT
    return f"{agency}:{piid}:{mod}:{ids['transaction_number']}:{parent}"


def _record(external_id: str, row: dict[str, Any]) -> Record:
    """Return the record of one contract action."""
    ids = _ids(row)
    agency, piid, mod = ids["agency_id"], ids["piid"], ids["mod_number"]
    if _is_idv(row):
        match_key = idv_match_key(agency, piid, mod)
    else:
        match_key = contract_match_key(agency, piid, mod, ids["ref_idv_piid"])
    core = as_dict(row.get("coreData"))
    details = as_dict(row.get("awardDetails"))
    products = as_dict(core.get("productOrServiceInformation"))
    psc = as_dict(products.get("productOrService"))
    naics = next(iter(as_list(products.get("principalNaics"))), {})
    naics = as_dict(naics)
    description = plain(
        as_text(
            as_dict(details.get("productOrServiceInformation")).get(
                "descriptionOfContractRequirement"
            )
        )
    )
    action_type = as_dict(core.get("awardOrIDVType"))
    reason = as_dict(as_dict(row.get("contractId")).get("reasonForModification"))
    facts = {
        **ids,
        "document_type": "IDV" if _is_idv(row) else "award",
        "contract_action_type": as_text(action_type.get("code")),
        "contract_action_type_description": as_text(action_type.get("name")),
        "reason_for_modification": as_text(reason.get("name")),
        "solicitation_id": as_text(core.get("solicitationId")),
        "psc": as_text(psc.get("code")),
        "psc_description": as_text(psc.get("name")),
        "naics": as_text(naics.get("code")),
        "naics_description": as_text(naics.get("name")),
        "total_obligated_amount": as_text(
            as_dict(details.get("totalContractDollars")).get("totalActionObligation")
        ),
        "last_modified_date": as_text(
            as_dict(details.get("transactionData")).get("lastModifiedDate")
        ),
    }
    contracting = as_dict(as_dict(core.get("federalOrganization")).get("contractingInformation"))
    office = as_dict(contracting.get("contractingOffice"))
    facts["contracting_office_id"] = as_text(office.get("code"))
    facts["contracting_office_name"] = as_text(office.get("name"))
    dates = as_dict(details.get("dates"))
    kind_name = facts["contract_action_type_description"] or "Contract action"
    return Record(
        source=NAME,
        external_id=external_id,
        kind="award" if mod == "0" else "modification",
        title=(description or f"{kind_name} {piid}")[:TITLE_LIMIT],
        # No documented public page per action: SAM.gov's contract data search for the PIID.
        url=f"https://sam.gov/search/?index=fpds&keywords={quote(piid)}",
        raw=row,
        date=_date(dates.get("dateSigned")),
        summary=description,
        amount=_amount(as_dict(details.get("dollars")).get("actionObligation")),
        agencies=_agencies(core),
        vendors=_vendors(as_dict(details.get("awardeeData"))),
        codes={k: facts[k] for k in ("naics", "psc") if facts[k]},
        match_key=match_key,
        extra={key: value for key, value in facts.items() if value and key not in ("naics", "psc")},
    )


def _agency(info: dict[str, Any], prefix: str, role: str) -> AgencyRef | None:
    """Return the subtier of a contracting/funding block, its department as parent."""
    department = as_dict(info.get(f"{prefix}Department"))
    subtier = as_dict(info.get(f"{prefix}Subtier"))
    code, name = as_text(subtier.get("code")), clean_text(as_text(subtier.get("name")))
    if not code and not name:
        return None
    parent = None
    if as_text(department.get("code")) or as_text(department.get("name")):
        parent = AgencyRef(
            name=clean_text(as_text(department.get("name"))) or as_text(department.get("code")),
            code=as_text(department.get("code")),
            code_type="fpds_department",
            role=role,
            level="federal",
        )
    return AgencyRef(
        name=name or code, code=code, code_type="subtier", parent=parent, role=role, level="federal"
    )


def _agencies(core: dict[str, Any]) -> list[AgencyRef]:
    """Return the contracting agency, plus the funding agency when it differs."""
    organisation = as_dict(core.get("federalOrganization"))
    buyer = _agency(as_dict(organisation.get("contractingInformation")), "contracting", "buyer")
    funder = _agency(as_dict(organisation.get("fundingInformation")), "funding", "funder")
    refs = [buyer] if buyer else []
    if funder and (not buyer or (funder.code, funder.name) != (buyer.code, buyer.name)):
        refs.append(funder)
    return refs


def _vendors(awardee: dict[str, Any]) -> list[VendorRef]:
    """Return the awardee with its UEI, CAGE code and ultimate parent."""
    header = as_dict(awardee.get("awardeeHeader"))
    uei = as_dict(awardee.get("awardeeUEIInformation"))
    name = clean_text(
        as_text(header.get("awardeeName"))
        or as_text(header.get("legalBusinessName"))
        or as_text(header.get("awardeeNameFromContract"))
    )
    if not name:
        return []
    return [
        VendorRef(
            name=name,
            uei=as_text(uei.get("uniqueEntityId")),
            cage=as_text(uei.get("cageCode")),
            parent_name=clean_text(as_text(uei.get("awardeeUltimateParentName"))),
            parent_uei=as_text(uei.get("awardeeUltimateParentUniqueEntityId")),
        )
    ]


# -- value helpers --------------------------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    """Return the date part of "2025-02-20T00:00:00Z" or "2025-02-20 00:00:00.000"."""
    try:
        return dt.date.fromisoformat(as_text(value)[:10])
    except ValueError:
        return None


def _amount(value: Any) -> Decimal | None:
    """Return a dollar string ("-48250.00") as Decimal, None when empty or implausible."""
    try:
        amount = Decimal(as_text(value).replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and abs(amount) < MAX_AMOUNT else None
