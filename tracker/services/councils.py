"""The councils the ``legistar`` source reads, from the Council table, as the scraper sees them."""

from __future__ import annotations

import os

from scrapers.base import AgencyRef, CouncilRef
from tracker.models import Agency, Council


def council_refs(*, with_tokens: bool = False) -> tuple[CouncilRef, ...]:
    """The active councils by client name, each with its city and police named as the tracker
    spells them (so records resolve to those rows by name).

    Tokens are read from the environment variables the councils name, only ``with_tokens``
    (the legistar source's own query); a council whose variable is unset says so in
    ``missing_token`` and the source skips it.
    """
    councils = Council.objects.filter(active=True).select_related(
        "jurisdiction__parent__parent", "police__parent__parent"
    )
    refs = []
    for council in councils.order_by("client"):
        token = os.environ.get(council.token, "").strip() if with_tokens and council.token else ""
        refs.append(
            CouncilRef(
                client=council.client,
                name=council.name,
                jurisdiction=_agency_ref(council.jurisdiction),
                police=_agency_ref(council.police) if council.police else None,
                token=token,
                missing_token=council.token if with_tokens and council.token and not token else "",
            )
        )
    return tuple(refs)


def _agency_ref(agency: Agency) -> AgencyRef:
    """``agency`` as the tracker names it, with its parents."""
    return AgencyRef(
        name=agency.name,
        acronym=agency.acronym,
        parent=_agency_ref(agency.parent) if agency.parent_id else None,
        level=agency.level,
        state=agency.state,
        place=agency.place,
        agency_type=agency.agency_type,
    )
