"""USAspending rows to records: search rows, award details and transaction rows.

Kept apart from ``scrapers.usaspending`` (HTTP and page sniffing) so each stays small.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from scrapers.base import AgencyRef, Record, VendorRef
from scrapers.fpds import MAX_AMOUNT, NO_PARENT, contract_match_key, idv_match_key
from scrapers.text import clean_text, plain, scrub

NAME = "usaspending"
SITE = "https://www.usaspending.gov/award/"
TITLE_LIMIT = 200


class BadRow(Exception):
    """One row cannot become a record; the message says why."""


# -- ids ------------------------------------------------------------------------------------


def _split_after(rest: str, piid: str, count: int) -> list[str]:
    """Return ``rest`` split into ``count`` "_"-separated parts, the first being ``piid`` if given.

    A PIID may itself hold "_", so when the caller knows the PIID the split starts after it.
    """
    if piid and rest.startswith(piid + "_"):
        return [piid, *rest[len(piid) + 1 :].split("_", count - 2)]
    return rest.rsplit("_", count - 1)


def _parts(category: str, piid: str, agency: str, parent_piid: str, parent_agency: str) -> dict:
    """Return the named parts of an award id, in the order CONT_AWD_ ids spell them."""
    return {
        "category": category,
        "piid": piid,
        "agency": agency,
        "parent_piid": parent_piid,
        "parent_agency": parent_agency,
    }


def award_parts(generated_id: str, piid_hint: str = "") -> dict[str, str]:
    """Return the parts of a contract or IDV award id ({} for other forms).

    Keys: ``category`` ("contract" | "idv"), ``agency`` (the awarding subtier code FPDS
    calls agencyID), ``piid``, ``parent_piid`` and ``parent_agency`` ("-NONE-" when none).
    """
    gid = generated_id.strip().upper()
    hint = piid_hint.strip().upper()
    if gid.startswith("CONT_IDV_"):
        parts = _split_after(gid[len("CONT_IDV_") :], hint, 2)
        if len(parts) == 2 and all(parts):
            return _parts("idv", *parts, NO_PARENT, NO_PARENT)
    elif gid.startswith("CONT_AWD_"):
        parts = _split_after(gid[len("CONT_AWD_") :], hint, 4)
        if len(parts) == 4 and all(parts):
            return _parts("contract", *parts)
    elif gid.startswith("CONT_AW_"):  # older form: CONT_AW_<agency>_<parent agency>_<PIID>_<parent>
        parts = gid[len("CONT_AW_") :].split("_")
        if len(parts) == 4 and all(parts):
            agency, parent_agency, piid, parent_piid = parts
            return _parts("contract", piid, agency, parent_piid, parent_agency)
    return {}


def award_match_key(generated_id: str, piid_hint: str = "", mod: str = "0") -> str:
    """Return the FPDS-compatible match key of a generated award id ("" for other forms)."""
    parts = award_parts(generated_id, piid_hint)
    if not parts:
        return ""
    if parts["category"] == "idv":
        return idv_match_key(parts["agency"], parts["piid"], mod)
    return contract_match_key(parts["agency"], parts["piid"], mod, parts["parent_piid"])


def transaction_id(parts: dict[str, str], mod: str) -> str:
    """Return the CONT_TX_ id USAspending's transactions endpoint gives this action.

    Transaction number 0 is assumed (FPDS numbers a second action under one modification
    1, 2, ... only rarely); such an action still folds into the right event by match key.
    """
    return "_".join(
        (
            "CONT_TX",
            parts["agency"],
            parts["parent_agency"],
            parts["piid"],
            mod,
            parts["parent_piid"],
            "0",
        )
    )


def transaction_parts(transaction_id: str) -> dict[str, str]:
    """Return the parts of a CONT_TX_ id ({} for other forms).

    The id is CONT_TX_<agency>_<parent agency>_<PIID>_<mod>_<parent PIID>_<transaction no.>.
    """
    tid = transaction_id.strip().upper()
    parts = tid[len("CONT_TX_") :].split("_") if tid.startswith("CONT_TX_") else []
    if len(parts) != 6 or not all(parts):
        return {}
    names = ("agency", "parent_agency", "piid", "mod", "parent_piid", "transaction_number")
    return dict(zip(names, parts, strict=True))


def transaction_match_key(parts: dict[str, str], award_id: str) -> str:
    """Return the match key of a transaction's parts; IDV-ness shows only in the award id."""
    if award_id.strip().upper().startswith("CONT_IDV_"):
        return idv_match_key(parts["agency"], parts["piid"], parts["mod"])
    return contract_match_key(parts["agency"], parts["piid"], parts["mod"], parts["parent_piid"])


def award_id_of(parts: dict[str, str]) -> str:
    """Return the contract award id a transaction's parts name (replayed pages carry no meta).

    An IDV's transactions cannot be told from a definitive contract's by the id alone, so
    this assumes a contract award; fetched pages carry the real award id in their meta.
    """
    return "_".join(
        ("CONT_AWD", parts["piid"], parts["agency"], parts["parent_piid"], parts["parent_agency"])
    )


# -- value readers --------------------------------------------------------------------------


def text(row: dict[str, Any], key: str) -> str:
    """Return a text field as clean text; numbers are accepted, other types are a bad row."""
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRow(f"{key} is not text ({type(value).__name__})")
    return clean_text(value)


def amount(row: dict[str, Any], key: str) -> Decimal | None:
    """Return a money field as Decimal (None when null); a non-number is a bad row."""
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRow(f"{key} is not a number ({type(value).__name__})")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadRow(f"{key} is not a number: {str(value)[:40]!r}") from None
    if not result.is_finite() or abs(result) >= MAX_AMOUNT:
        raise BadRow(f"{key} is not a plausible amount: {str(value)[:40]!r}")
    return result


def date(row: dict[str, Any], *keys: str) -> dt.date | None:
    """Return the first present date among ``keys`` (YYYY-MM-DD; a time part is ignored)."""
    for key in keys:
        value = row.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise BadRow(f"{key} is not a date ({type(value).__name__})")
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise BadRow(f"{key} is not a date: {value[:40]!r}") from None
    return None


def obj(row: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a nested object field ({} when null or of another type)."""
    value = row.get(key)
    return value if isinstance(value, dict) else {}


def code(row: dict[str, Any], key: str) -> tuple[str, str]:
    """Return (code, description) of a NAICS/PSC field: {code, description} or a plain string."""
    value = row.get(key)
    if isinstance(value, dict):
        return text(value, "code"), text(value, "description")
    return text(row, key), ""


def title_from(description: str, fallback: str) -> str:
    """Return a title: the description, cut at a word boundary near TITLE_LIMIT, else fallback."""
    if len(description) <= TITLE_LIMIT:
        return description or fallback
    cut = description[:TITLE_LIMIT].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def award_url(generated_id: str) -> str:
    """Return the award's public page on usaspending.gov."""
    return SITE + quote(generated_id, safe="")


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Return ``values`` without empty entries."""
    return {k: v for k, v in values.items() if v not in (None, "", {}, [])}


# -- search rows ----------------------------------------------------------------------------


def _row_agency(row: dict[str, Any], prefix: str, role: str) -> AgencyRef | None:
    """Return the "<prefix> Sub Agency" under its "<prefix> Agency" from a search row."""
    top = AgencyRef(
        name=text(row, f"{prefix} Agency"),
        code=text(row, f"{prefix} Agency Code"),
        code_type="toptier",
        role=role,
        level="federal",
    )
    sub_name, sub_code = text(row, f"{prefix} Sub Agency"), text(row, f"{prefix} Sub Agency Code")
    if not sub_name and not sub_code:
        return top if top.name else None
    return AgencyRef(
        name=sub_name or sub_code,
        code=sub_code,
        code_type="subtier",
        parent=top if top.name else None,
        role=role,
        level="federal",
    )


def _different(buyer: AgencyRef | None, funder: AgencyRef | None) -> bool:
    """Return whether the funding agency is another agency than the buyer."""
    if funder is None:
        return False
    if buyer is None:
        return True
    if buyer.code and funder.code:
        return buyer.code != funder.code
    return buyer.name.upper() != funder.name.upper()


def search_record(row: dict[str, Any]) -> Record:
    """Return the award record of one spending_by_award row; raises BadRow."""
    gid = text(row, "generated_internal_id")
    piid = text(row, "Award ID")
    if not gid:
        raise BadRow("no generated_internal_id")
    # Transaction-search rows name it "Transaction Description".
    description = plain(text(row, "Description") or text(row, "Transaction Description"))
    award_type = text(row, "Contract Award Type")
    buyer = _row_agency(row, "Awarding", "buyer")
    funder = _row_agency(row, "Funding", "funder")
    naics, naics_description = code(row, "NAICS")
    psc, psc_description = code(row, "PSC")
    vendor = text(row, "Recipient Name")
    return Record(
        source=NAME,
        external_id=gid,
        kind="award",
        title=title_from(description, f"{award_type or 'Award'} {piid or gid}"),
        url=award_url(gid),
        raw=scrub(row),
        date=date(row, "Base Obligation Date", "Start Date"),
        summary=description,
        amount=amount(row, "Award Amount"),
        agencies=[a for a in (buyer, funder if _different(buyer, funder) else None) if a],
        vendors=[
            VendorRef(
                name=vendor,
                uei=text(row, "Recipient UEI"),
                duns=text(row, "Recipient DUNS Number"),
            )
        ]
        if vendor
        else [],
        codes=_compact({"naics": naics, "psc": psc}),
        match_key=award_match_key(gid, piid),
        extra=_compact(
            {
                "piid": piid,
                "award_category": "idv" if gid.upper().startswith("CONT_IDV_") else "contract",
                "contract_award_type": award_type,
                "naics_description": naics_description,
                "psc_description": psc_description,
                "end_date": text(row, "End Date"),
                "last_date_to_order": text(row, "Last Date to Order"),
                "last_modified_date": text(row, "Last Modified Date"),
            }
        ),
    )


# -- award details --------------------------------------------------------------------------


def _detail_agency(agency: dict[str, Any], role: str) -> AgencyRef | None:
    """Return the subtier agency (under its toptier) of an award detail's agency object."""
    top, sub = obj(agency, "toptier_agency"), obj(agency, "subtier_agency")
    parent = None
    if text(top, "name"):
        parent = AgencyRef(
            name=text(top, "name"),
            code=text(top, "code"),
            code_type="toptier",
            acronym=text(top, "abbreviation"),
            role=role,
            level="federal",
        )
    if not text(sub, "name"):
        return parent
    return AgencyRef(
        name=text(sub, "name"),
        code=text(sub, "code"),
        code_type="subtier",
        acronym=text(sub, "abbreviation"),
        parent=parent,
        role=role,
        level="federal",
    )


def detail_record(data: dict[str, Any]) -> Record:
    """Return the award record of an award-detail response; raises BadRow."""
    gid = text(data, "generated_unique_award_id")
    piid = text(data, "piid")
    if not gid:
        raise BadRow(f"award {piid or '?'}: no generated_unique_award_id")
    contract = obj(data, "latest_transaction_contract_data")
    recipient = obj(data, "recipient")
    awarding, funding = obj(data, "awarding_agency"), obj(data, "funding_agency")
    buyer = _detail_agency(awarding, "buyer")
    funder = _detail_agency(funding, "funder")
    period = obj(data, "period_of_performance")
    description = plain(text(data, "description"))
    naics = text(contract, "naics") or text(obj(obj(data, "naics_hierarchy"), "base_code"), "code")
    psc = text(contract, "product_or_service_code") or text(
        obj(obj(data, "psc_hierarchy"), "base_code"), "code"
    )
    vendor = text(recipient, "recipient_name")
    parent_award = obj(data, "parent_award")
    return Record(
        source=NAME,
        external_id=gid,
        kind="award",
        title=title_from(description, f"{text(data, 'type_description') or 'Award'} {piid}"),
        url=award_url(gid),
        raw=scrub(data),
        date=date(data, "date_signed") or date(period, "start_date"),
        summary=description,
        amount=amount(data, "total_obligation"),
        agencies=[a for a in (buyer, funder if _different(buyer, funder) else None) if a],
        vendors=[
            VendorRef(
                name=vendor,
                uei=text(recipient, "recipient_uei"),
                duns=text(recipient, "recipient_unique_id"),
                parent_name=text(recipient, "parent_recipient_name"),
                parent_uei=text(recipient, "parent_recipient_uei"),
                parent_duns=text(recipient, "parent_recipient_unique_id"),
            )
        ]
        if vendor
        else [],
        codes=_compact({"naics": naics, "psc": psc}),
        match_key=award_match_key(gid, piid),
        extra=_compact(
            {
                # The importer keeps one fingerprint per variant of an id (search row, detail).
                "variant": "detail",
                "piid": piid,
                "award_category": text(data, "category"),
                "type": text(data, "type"),
                "type_description": text(data, "type_description"),
                "solicitation_identifier": text(contract, "solicitation_identifier"),
                "naics_description": text(contract, "naics_description"),
                "psc_description": text(contract, "product_or_service_description"),
                "extent_competed": text(contract, "extent_competed_description"),
                "set_aside": text(contract, "type_set_aside_description"),
                "number_of_offers_received": text(contract, "number_of_offers_received"),
                "awarding_office": text(awarding, "office_agency_name"),
                "funding_office": text(funding, "office_agency_name"),
                "base_and_all_options": text(data, "base_and_all_options"),
                "parent_award_id": text(parent_award, "generated_unique_award_id"),
                "parent_award_piid": text(parent_award, "piid"),
                "period_of_performance": _compact(
                    {k: text(period, k) for k in ("start_date", "end_date", "last_modified_date")}
                    | {"potential_end_date": text(period, "potential_end_date")}
                ),
            }
        ),
    )


# -- transactions ---------------------------------------------------------------------------


def transaction_record(row: dict[str, Any], award_id: str) -> Record | None:
    """Return the modification record of one transaction row (None for the base action)."""
    tid = text(row, "id")
    parts = transaction_parts(tid)
    mod = text(row, "modification_number") or parts.get("mod", "")
    if mod in ("0", ""):
        return None  # the base action: the award record already stands for it
    award_id = award_id or (award_id_of(parts) if parts else "")
    if not award_id:
        raise BadRow(f"modification {mod}: no transaction id and no award id")
    action_date = date(row, "action_date")
    tid = tid or f"{award_id}:{mod}:{action_date or ''}"
    if parts:
        key, piid = transaction_match_key({**parts, "mod": mod}, award_id), parts["piid"]
    else:
        key, piid = award_match_key(award_id, mod=mod), ""
    if not key:
        raise BadRow(f"{tid}: cannot tell which contract this modification belongs to")
    action = text(row, "action_type_description")
    return Record(
        source=NAME,
        external_id=tid,
        kind="modification",
        title=f"{action or 'Modification'} (modification {mod}{f' to {piid}' if piid else ''})",
        url=award_url(award_id),
        raw=scrub(row),
        date=action_date,
        summary=plain(text(row, "description")),
        amount=amount(row, "federal_action_obligation"),
        match_key=key,
        extra=_compact(
            {
                "award_id": award_id,
                "piid": piid,
                "modification_number": mod,
                "action_type": text(row, "action_type"),
                "action_type_description": action,
                "type_description": text(row, "type_description"),
            }
        ),
    )


# -- spending_by_transaction rows (one row per contract or grant action) ----------------------


def _action_agency(row: dict[str, Any], prefix: str, code: str, role: str) -> AgencyRef | None:
    """Return "<prefix> Sub Agency" under "<prefix> Agency"; rows carry names, not codes.

    The awarding subtier code is known from the award id (``code``); toptier codes are not
    among the fields this endpoint returns.
    """
    top_name, sub_name = text(row, f"{prefix} Agency"), text(row, f"{prefix} Sub Agency")
    top = AgencyRef(name=top_name, code_type="toptier", role=role, level="federal")
    if not sub_name:
        return top if top_name else None
    return AgencyRef(
        name=sub_name,
        code=code,
        code_type="subtier" if code else "",
        parent=top if top_name else None,
        role=role,
        level="federal",
    )


def _base_action(mod: str) -> bool:
    """Return whether a modification number names the base action ("0", "00", or none)."""
    return not mod.strip("0")


def contract_action_record(row: dict[str, Any]) -> Record:
    """Return the record of one contract or IDV action; raises BadRow.

    The base action (mod 0) is the award, keyed by the award id as award-search rows are;
    a modification is keyed by the CONT_TX_ id the transactions endpoint gives it. Both
    carry the match key FPDS gives the same action.
    """
    gid, piid = text(row, "generated_internal_id"), text(row, "Award ID")
    parts = award_parts(gid, piid)
    if not parts:
        raise BadRow(f"award id {gid[:80]!r} is not a contract or IDV id")
    mod = text(row, "Mod") or "0"
    base = _base_action(mod)
    description = plain(text(row, "Transaction Description"))
    award_type = text(row, "Award Type")
    buyer = _action_agency(row, "Awarding", parts["agency"], "buyer")
    funder = _action_agency(row, "Funding", "", "funder")
    naics, naics_description = code(row, "NAICS")
    psc, psc_description = code(row, "PSC")
    vendor = text(row, "Recipient Name")
    label = f"{award_type or 'Award'} {piid or parts['piid']}"
    return Record(
        source=NAME,
        external_id=gid if base else transaction_id(parts, mod),
        kind="award" if base else "modification",
        title=title_from(description, label if base else f"Modification {mod} to {label}"),
        url=award_url(gid),
        raw=scrub(row),
        date=date(row, "Action Date"),
        summary=description,
        amount=amount(row, "Transaction Amount"),
        agencies=[a for a in (buyer, funder if _different(buyer, funder) else None) if a],
        vendors=[VendorRef(name=vendor, uei=text(row, "Recipient UEI"))] if vendor else [],
        codes=_compact({"naics": naics, "psc": psc}),
        match_key=award_match_key(gid, piid, mod),
        extra=_compact(
            {
                # The importer keeps one fingerprint per variant of an id (search row, detail).
                "variant": "action",
                "award_id": gid,
                "piid": piid or parts["piid"],
                "parent_award_piid": parts["parent_piid"].replace(NO_PARENT, ""),
                "modification_number": mod,
                "award_category": parts["category"],
                "award_type": award_type,
                "action_type": text(row, "Action Type"),
                "naics_description": naics_description,
                "psc_description": psc_description,
                "last_date_to_order": text(row, "Last Date to Order"),
            }
        ),
    )


def _recipient_government(row: dict[str, Any], level: str) -> AgencyRef | None:
    """Return the grant's recipient (a state or local government) as an agency."""
    name = text(row, "Recipient Name")
    if not name:
        return None
    location = obj(row, "Recipient Location")
    place = text(location, "city_name") or text(location, "county_name")
    return AgencyRef(
        name=name,
        role="requester",
        level=level,
        country="US" if text(location, "location_country_code") in ("", "USA") else "",
        state=text(location, "state_code"),
        place=place if level == "local" else "",
    )


def grant_action_record(row: dict[str, Any], level: str) -> Record:
    """Return the record of one grant action: funded by the federal awarding agency, with
    the recipient government (``level`` "state" or "local", as the search asked) as the
    requester. Keyed by the award id (FAIN) and, for an amendment, its number."""
    gid, fain = text(row, "generated_internal_id"), text(row, "Award ID")
    if not gid.upper().startswith("ASST_"):
        raise BadRow(f"award id {gid[:80]!r} is not an assistance award id")
    mod = text(row, "Mod")
    base = _base_action(mod)
    description = plain(text(row, "Transaction Description"))
    listing = obj(row, "Assistance Listing")
    funder = _action_agency(row, "Awarding", gid.rsplit("_", 1)[-1], "funder")
    recipient = _recipient_government(row, level)
    label = f"Grant {fain or gid}"
    return Record(
        source=NAME,
        external_id=gid if base else f"{gid}:{mod}",
        kind="award" if base else "modification",
        title=title_from(description, label if base else f"Amendment {mod} to {label}"),
        url=award_url(gid),
        raw=scrub(row),
        date=date(row, "Action Date"),
        summary=description,
        amount=amount(row, "Transaction Amount"),
        agencies=[a for a in (funder, recipient) if a],
        extra=_compact(
            {
                "variant": "action",
                "award_id": gid,
                "fain": fain,
                "modification_number": mod,
                "award_category": "grant",
                "award_type": text(row, "Award Type"),
                "assistance_listing": text(listing, "cfda_number"),
                "assistance_listing_title": text(listing, "cfda_title"),
                "recipient_uei": text(row, "Recipient UEI"),
            }
        ),
    )


def action_record(row: dict[str, Any], recipient_level: str = "") -> Record:
    """Return the record of one spending_by_transaction row (contract, IDV or grant)."""
    gid = text(row, "generated_internal_id")
    if not gid:
        raise BadRow("no generated_internal_id")
    if gid.upper().startswith("ASST_"):
        return grant_action_record(row, recipient_level)
    return contract_action_record(row)
