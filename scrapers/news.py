"""News source: RSS/Atom feeds and the article pages they link to, as report/pitch/meeting records.

A feed page gives one feed-only "report" record per item (enough for replay from a feed file);
the article page fetched for that item gives a fuller record with the same external id (the
article URL), so the importer updates the first with the second. Whether a story names
surveillance technology is decided by the importer, not here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Tag

from scrapers.base import (
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    SourceUnavailable,
    page_from,
)
from scrapers.news_feeds import feed_items, parse_date
from scrapers.text import decode_body, element_text, parse_html, plain, safe_url, suggest_kind

NAME = "news"
log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000
SUMMARY_CHARS = 600
REVIEW_KINDS = ("pitch", "meeting")
ARTICLE_TYPES = ("Article", "BlogPosting")  # NewsArticle, ReportageNewsArticle, ...
TRACKING_PARAMS = {"fbclid", "gclid", "mc_cid", "mc_eid", "cmpid", "ncid"}
# An XML DTD (not "<!DOCTYPE html>") marks a would-be feed, which the feed parser refuses.
_DECLARATION = re.compile(rb"<!(?:DOCTYPE\s+(?!html\b)|ENTITY)", re.IGNORECASE)


def fetch(client: Client, query: Query) -> Iterator[Page]:
    """Yield each feed page, then the article page of each feed item and of each query URL."""
    seen: set[str] = set()
    budget = [query.max_pages]
    failures: list[SourceUnavailable] = []
    yielded = False
    for feed_url in query.feeds:
        url = safe_url(feed_url)
        if not url:
            log.warning("news: skipping feed URL that is not http(s): %r", feed_url)
            continue
        try:
            feed = page_from(client.get(url), kind="feed")
        except SourceUnavailable as exc:
            log.warning("news: feed %s failed: %s", url, exc)
            failures.append(exc)
            continue
        yielded = True
        yield feed
        try:
            _channel, items = feed_items(feed.body, feed.url)
        except ParseError as exc:
            log.warning("news: feed %s is unusable: %s", url, exc)
            continue
        for item in items:
            published = parse_date(item["published"])
            if query.since and published and published < query.since:
                continue
            article = _fetch_article(client, item["link"], seen, budget, feed_url=url, item=item)
            if article:
                yield article
    for direct in query.urls:
        article = _fetch_article(client, safe_url(direct), seen, budget)
        if article:
            yield article
    if failures and not yielded and not seen:
        raise failures[0]


def _fetch_article(
    client: Client, url: str, seen: set[str], budget: list[int | None], **meta: Any
) -> Page | None:
    """Return the article page at ``url``, or None when skipped, over budget or failed."""
    if not url or url in seen or budget[0] == 0:
        return None
    seen.add(url)
    if budget[0] is not None:
        budget[0] -= 1
    try:
        return page_from(client.get(url), kind="article", **meta)
    except SourceUnavailable as exc:
        # One dead article must not stop the run; the feed record still carries the item.
        log.warning("news: article %s failed: %s", url, exc)
        return None


def parse(page: Page) -> Parsed:
    """Return the records of a feed page (one per item) or of an article page (one)."""
    head = page.body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        raise ParseError("empty body")
    if _looks_like_feed(head):
        return _parse_feed(page)
    if b"<" not in head:
        raise ParseError("body is neither HTML nor XML")
    try:
        return _parse_article(page)
    except RecursionError:
        raise ParseError("markup nested too deeply") from None


def _looks_like_feed(head: bytes) -> bool:
    """Return True when the start of a body is an XML feed (or an XML document with a DTD)."""
    if b"<html" in head:
        return False
    return (
        head.startswith(b"<?xml")
        or re.search(rb"<(?:rss|feed|rdf:rdf)[\s>]", head) is not None
        or _DECLARATION.search(head) is not None
    )


# --- feeds -------------------------------------------------------------------------------


def _parse_feed(page: Page) -> Parsed:
    """Return one feed-only "report" record per feed item."""
    channel, items = feed_items(page.body, page.url)
    parsed = Parsed()
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        guid_url = safe_url(item["permalink"]) or safe_url(item["guid"])
        if item["link"] or guid_url:
            external_id = url_key(item["link"] or guid_url)
        elif item["guid"]:
            # A bare guid (a UUID on podcast feeds) is only unique within its feed.
            external_id = f"{channel['link']}#{item['guid']}" if channel["link"] else item["guid"]
        else:
            parsed.problems.append(f"item {number} ({item['title'][:60]!r}): no link or guid")
            continue
        if external_id in seen:  # feeds repeat items; the first copy is kept
            continue
        seen.add(external_id)
        parsed.records.append(
            Record(
                source=NAME,
                external_id=external_id,
                kind="report",
                title=item["title"] or item["summary"][:120] or external_id,
                url=url_key(item["link"])
                if item["link"]
                else guid_url or item["enclosure"] or channel["link"],
                raw={**item, "feed_url": page.url, "feed_title": channel["title"]},
                date=parse_date(item["published"]),
                summary=_shorten(item["summary"]),
                text=item["summary"],
                extra={"guid": item["guid"], "feed_title": channel["title"], "feed_url": page.url},
            )
        )
    return parsed


# --- articles ----------------------------------------------------------------------------


def _declared_charset(page: Page) -> str | None:
    """Return the charset from the Content-Type header, else from a <meta> tag, else None."""
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", page.content_type or "", re.IGNORECASE)
    if match:
        return match.group(1)
    found = re.search(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([\w.:-]+)", page.body[:4096], re.I)
    return found.group(1).decode("ascii") if found else None


def _metas(soup: BeautifulSoup) -> dict[str, str]:
    """Return <meta> contents keyed by lower-cased property/name (first occurrence wins)."""
    metas: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        content = tag.get("content")
        if isinstance(key, str) and isinstance(content, str):
            metas.setdefault(key.strip().lower(), content)
    return metas


def _ld_article(soup: BeautifulSoup) -> dict[str, Any]:
    """Return the first schema.org *Article object in the page's ld+json blocks, or {}."""
    for script in soup.find_all("script", type=re.compile("ld\\+json", re.I)):
        try:
            stack = [json.loads(script.get_text())]
        except (ValueError, RecursionError):
            continue
        for _ in range(500):  # bounded walk over lists and @graph
            if not stack:
                break
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                types = node.get("@type")
                types = types if isinstance(types, list) else [types]
                if any(isinstance(t, str) and t.endswith(ARTICLE_TYPES) for t in types):
                    return node
                stack.extend(node.get("@graph") or [])
    return {}


def _authors(value: Any) -> list[str]:
    """Return the author names in a schema.org author value (object, list or string)."""
    values = value if isinstance(value, list) else [value]
    names = [plain(v.get("name") if isinstance(v, dict) else v) for v in values[:20]]
    return [name for name in names if name and not safe_url(name)]


def _main_text(soup: BeautifulSoup, ld: dict[str, Any]) -> str:
    """Return the article body: ld+json articleBody, else <article>, else the densest <p> block."""
    if isinstance(ld.get("articleBody"), str) and ld["articleBody"].strip():
        return plain(ld["articleBody"])
    articles = soup.find_all("article", limit=10)  # bounded: nested <article> bombs exist
    if articles:
        return element_text(max(articles, key=lambda a: len(a.find_all("p"))))
    weight: dict[int, tuple[Tag, int]] = {}
    for paragraph in soup.find_all("p"):
        parent = paragraph.parent
        if parent is not None:
            _, total = weight.get(id(parent), (parent, 0))
            weight[id(parent)] = (parent, total + len(paragraph.get_text()))
    if weight:
        return element_text(max(weight.values(), key=lambda pair: pair[1])[0])
    return element_text(soup.body or soup)


def _parse_article(page: Page) -> Parsed:
    """Return the one record an article page gives."""
    html = decode_body(page.body, _declared_charset(page)).replace("\x00", "")
    soup = parse_html(html)
    metas = _metas(soup)
    ld = _ld_article(soup)
    item = page.meta.get("item") if isinstance(page.meta.get("item"), dict) else {}
    item_link = safe_url(item.get("link"))
    canonical = ""
    for link in soup.find_all("link", href=True):
        if "canonical" in [str(rel).lower() for rel in link.get("rel") or []]:
            canonical = safe_url(urljoin(safe_url(page.url), link["href"].strip()))
            break
    url = canonical or safe_url(metas.get("og:url")) or safe_url(page.url) or item_link
    if not url:
        raise ParseError("article has no http(s) URL to identify it")
    heading = soup.find("h1")
    title = (
        plain(metas.get("og:title"))
        or plain(ld.get("headline"))
        or plain(soup.title.get_text() if soup.title else "")
        or plain(heading.get_text() if heading else "")
    )
    time_tag = soup.find("time", datetime=True)
    published = next(
        (
            value
            for value in (
                metas.get("article:published_time"),
                ld.get("datePublished"),
                time_tag.get("datetime") if time_tag else None,
                item.get("published"),
            )
            if isinstance(value, str) and parse_date(value)
        ),
        "",
    )
    byline = _authors(ld.get("author")) or _authors(metas.get("article:author"))
    description = plain(metas.get("og:description") or metas.get("description"))
    text = _main_text(soup, ld)[:MAX_TEXT_CHARS]
    if not title and not text:
        raise ParseError("page has neither a title nor article text")
    paragraphs = [line for line in text.split("\n") if line.strip()]
    kind = suggest_kind(f"{title}\n{text}")
    key = url_key(url)
    feed_link = url_key(item_link) if item_link else ""
    record = Record(
        source=NAME,
        external_id=key,
        kind=kind,
        title=title or paragraphs[0][:120],
        url=key,
        raw={
            "title": title,
            "url": key,
            "page_url": page.url,
            "published": published,
            "byline": ", ".join(byline),
            "description": description,
            "site_name": plain(metas.get("og:site_name")),
            "text_length": len(text),
            "feed_item": item or None,
        },
        date=parse_date(published),
        summary=_shorten("\n".join(paragraphs[:2])) or _shorten(description),
        text=text,
        review=kind in REVIEW_KINDS,
        extra={
            "byline": ", ".join(byline),
            "site_name": plain(metas.get("og:site_name")),
            "feed_url": safe_url(page.meta.get("feed_url")),
            "feed_link": feed_link if feed_link != key else "",
        },
    )
    return Parsed(records=[record])


# --- small helpers -----------------------------------------------------------------------


def url_key(url: str) -> str:
    """Return ``url`` as an id: lower-case scheme and host, no fragment or tracking params."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )


def _shorten(text: str) -> str:
    """Return ``text`` cut to about SUMMARY_CHARS at a word boundary."""
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
