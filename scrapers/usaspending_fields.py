"""USAspending ids and field readers shared by the record builders.

The builders are ``scrapers.usaspending_records`` (spending_by_transaction rows, what a run
fetches) and ``scrapers.usaspending_awards`` (award search rows, award details and an award's
transactions, the older page kinds kept readable for saved replays); ``scrapers.usaspending``
fetches the pages and tells which builder a page needs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from scrapers.base import AgencyRef
from scrapers.fpds import MAX_AMOUNT, NO_PARENT, contract_match_key, idv_match_key
from scrapers.text import clean_text

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


def compact(values: dict[str, Any]) -> dict[str, Any]:
    """Return ``values`` without empty entries."""
    return {k: v for k, v in values.items() if v not in (None, "", {}, [])}


def _different(buyer: AgencyRef | None, funder: AgencyRef | None) -> bool:
    """Return whether the funding agency is another agency than the buyer."""
    if funder is None:
        return False
    if buyer is None:
        return True
    if buyer.code and funder.code:
        return buyer.code != funder.code
    return buyer.name.upper() != funder.name.upper()


def buyer_and_funder(buyer: AgencyRef | None, funder: AgencyRef | None) -> list[AgencyRef]:
    """Return the buyer, and the funder when it is another agency (absent ones left out)."""
    return [a for a in (buyer, funder if _different(buyer, funder) else None) if a]
