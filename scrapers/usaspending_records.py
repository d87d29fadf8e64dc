"""USAspending spending_by_transaction rows to records: one per contract, IDV or grant action.

Ids and field readers come from ``scrapers.usaspending_fields``; the older award-shaped page
kinds are built by ``scrapers.usaspending_awards``.
"""

from __future__ import annotations

from typing import Any

from scrapers.base import AgencyRef, Record, VendorRef
from scrapers.fpds import NO_PARENT
from scrapers.text import plain, scrub
from scrapers.usaspending_fields import (
    NAME,
    BadRow,
    amount,
    award_match_key,
    award_parts,
    award_url,
    buyer_and_funder,
    code,
    compact,
    date,
    obj,
    text,
    title_from,
    transaction_id,
)


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
        agencies=buyer_and_funder(buyer, funder),
        vendors=[VendorRef(name=vendor, uei=text(row, "Recipient UEI"))] if vendor else [],
        codes=compact({"naics": naics, "psc": psc}),
        match_key=award_match_key(gid, piid, mod),
        extra=compact(
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
        extra=compact(
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
