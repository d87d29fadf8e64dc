"""DocumentCloud source: public documents matching the taxonomy keywords, as "foia" records.

Search results carry ``id`` as a string and list/detail responses as an integer (see
FORMATS.md section 6); both are normalised to the same decimal string so a document seen in
a search and again on its own is one record.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapers.base import (
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    load_json,
    page_from,
    parse_results_page,
)
from scrapers.http import HTTPStatusError
from scrapers.text import clean_text, html_to_text, int_id, iso_date, plain, safe_url, scrub

NAME = "documentcloud"
BASE_URL = "https://api.www.documentcloud.org/api/"
SITE_URL = "https://www.documentcloud.org/documents/"
# Anonymous searches get at most 25 rows a page (SOLR_ANON_MAX_ROWS; docs/api/api.md,
# "Pagination", in MuckRock/documentcloud); a larger per_page is silently cut to 25.
PER_PAGE = 25
# version=2.0 asks for cursor paging: page-number paging (1.0) ends at page 100 for
# anonymous users (ANON_PAGE_LIMIT) with a 400 (documents/search.py, _paginate_page).
API_VERSION = "2.0"
EXPECTED_FIELDS = ("title", "canonical_url", "created_at")
log = logging.getLogger(__name__)


def follow_next(
    client: Client,
    url: str,
    params: dict[str, Any] | None,
    *,
    max_pages: int | None,
    headers: dict[str, str] | None = None,
    **meta: Any,
) -> Iterator[Page]:
    """Yield ``url`` and each page its ``next`` link leads to on the same host (DRF paging)."""
    host = urlsplit(url).netloc.lower()
    seen: set[str] = set()
    count = 0
    while url and (max_pages is None or count < max_pages):
        page = page_from(client.get(url, params=params, headers=headers), **meta)
        count += 1
        yield page
        seen.add(url)
        url, params = _next_link(page, host, seen), None


def _next_link(page: Page, host: str, seen: set[str]) -> str:
    """Return the page's ``next`` URL when it stays on ``host`` and is new, else ""."""
    try:
        data = load_json(page)
    except ParseError as exc:
        log.warning("paging stopped at %s: %s", page.url, exc)
        return ""
    following = data.get("next") if isinstance(data, dict) else None
    url = safe_url(following)
    if following and (not url or urlsplit(url).netloc.lower() != host):
        log.warning("paging stopped: next link %r leaves %s", following, host)
        return ""
    return "" if url in seen else url


def solr_query(keyword: str) -> str:
    """Return ``keyword`` as one quoted Solr phrase, embedded quotes and backslashes escaped.

    Unquoted words are ORed ("face recognition" would match face or recognition), and
    ``-``, ``:``, ``AND`` and the like are query syntax; inside quotes they are plain text.
    """
    text = " ".join(keyword.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def created_at_range(since: dt.date | None, until: dt.date | None) -> str:
    """Return the ``created_at`` filter for since..until (whole UTC days), or "" when open.

    Both ends are inclusive, the form DocumentCloud's own tests use; a document created at
    exactly midnight can come back in two consecutive windows, and importing it is idempotent.
    """
    if since is None and until is None:
        return ""
    start = f"{since.isoformat()}T00:00:00Z" if since else "*"
    end = f"{(until + dt.timedelta(days=1)).isoformat()}T00:00:00Z" if until else "*"
    return f"[{start} TO {end}]"


def search_params(keyword: str, query: Query) -> dict[str, Any]:
    """Return the first search request's parameters for one keyword."""
    params = {"q": solr_query(keyword), "per_page": PER_PAGE, "version": API_VERSION, "hl": "true"}
    if window := created_at_range(query.since, query.until):
        params["created_at"] = window
    return params


def fetch(client: Client, query: Query, *, base_url: str = BASE_URL) -> Iterator[Page]:
    """Yield every search page for each keyword, following the ``next`` link as given.

    A 400 (a page past the service's limit, or a query it refuses) ends that keyword only:
    the pages already yielded stand and the next keyword runs. Other refusals raise, e.g.
    the 429 that ends an anonymous caller's 500 requests a day (docs/api/api.md).
    """
    search = urljoin(base_url, "documents/search/")
    for keyword in query.keywords:
        if not keyword.strip():
            continue
        params = search_params(keyword, query)
        pages = 0
        try:
            for page in follow_next(
                client, search, params, max_pages=query.max_pages, keyword=keyword
            ):
                pages += 1
                yield page
        except HTTPStatusError as exc:
            if exc.status != 400:
                raise
            log.warning("documentcloud: %r stopped after %d page(s): %s", keyword, pages, exc)


def _highlights(value: Any) -> str:
    """Return search highlights ({page_no_N: [snippets]}) as plain text in page order."""
    if not isinstance(value, dict):
        return ""

    def page_number(key: Any) -> int:
        digits = re.sub(r"\D", "", str(key))
        return int(digits[:9]) if digits else 0

    snippets = []
    for key in sorted(value, key=page_number):
        parts = value[key] if isinstance(value[key], list) else [value[key]]
        snippets.extend(html_to_text(part) for part in parts if isinstance(part, str))
    return "\n\n".join(s for s in snippets if s)


def _organization(value: Any) -> tuple[str, str]:
    """Return (id, name) of an organization given as an id or an expanded object."""
    if isinstance(value, dict):
        return int_id(value.get("id")), plain(value.get("name"))
    return int_id(value), ""


def document_record(doc: dict[str, Any]) -> Record:
    """Return the record for one document; raises ValueError when it has no usable id."""
    doc_id = int_id(doc.get("id"))
    if not doc_id:
        raise ValueError(f"document {str(doc.get('id'))[:40]!r}: no usable id")
    slug = clean_text(doc.get("slug"))
    description = html_to_text(
        doc.get("description") if isinstance(doc.get("description"), str) else ""
    )
    highlights = _highlights(doc.get("highlights"))
    organization, organization_name = _organization(doc.get("organization"))
    page_count = doc.get("page_count")
    return Record(
        source=NAME,
        external_id=doc_id,
        kind="foia",
        title=plain(doc.get("title")) or f"DocumentCloud document {doc_id}",
        url=safe_url(doc.get("canonical_url")) or f"{SITE_URL}{doc_id}{'-' + slug if slug else ''}",
        raw=scrub(doc),
        # publish_at is set only when a document was scheduled to go public; it is then the
        # date the public first saw it. Otherwise the upload date stands in.
        date=iso_date(doc.get("publish_at")) or iso_date(doc.get("created_at")),
        summary=description,
        text="\n\n".join(part for part in (description, highlights) if part),
        extra={
            "source": plain(doc.get("source")),
            "organization": organization,
            "organization_name": organization_name,
            "related_article": safe_url(doc.get("related_article")),
            "published_url": safe_url(doc.get("published_url")),
            "page_count": page_count if isinstance(page_count, int) else None,
            "language": clean_text(doc.get("language")),
            "access": clean_text(doc.get("access")),
            "highlights": highlights,
            "slug": slug,
        },
    )


def parse(page: Page) -> Parsed:
    """Return one record per document in a search page, a list page or a single document."""
    return parse_results_page(
        page,
        what="document",
        source="DocumentCloud",
        expected=EXPECTED_FIELDS,
        build=document_record,
    )
