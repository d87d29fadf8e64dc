"""USAspending award-shaped rows to records: award search rows, award details, transactions.

An award search row and an award's detail give the award record (the importer keeps one
fingerprint per variant of an id); a row of the award's transactions gives a modification.
"""

from __future__ import annotations

from typing import Any

from scrapers.base import AgencyRef, Record, VendorRef
from scrapers.text import plain, scrub
from scrapers.usaspending_fields import (
    NAME,
    BadRow,
    amount,
    award_id_of,
    award_match_key,
    award_url,
    buyer_and_funder,
    code,
    compact,
    date,
    obj,
    text,
    title_from,
    transaction_match_key,
    transaction_parts,
)

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
        agencies=buyer_and_funder(buyer, funder),
        vendors=[
            VendorRef(
                name=vendor,
                uei=text(row, "Recipient UEI"),
                duns=text(row, "Recipient DUNS Number"),
            )
        ]
        if vendor
        else [],
        codes=compact({"naics": naics, "psc": psc}),
        match_key=award_match_key(gid, piid),
        extra=compact(
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
        agencies=buyer_and_funder(buyer, funder),
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
        codes=compact({"naics": naics, "psc": psc}),
        match_key=award_match_key(gid, piid),
        extra=compact(
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
                "period_of_performance": compact(
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
        extra=compact(
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
