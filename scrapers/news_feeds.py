"""RSS 2.0, RSS 1.0 and Atom feeds read into plain item dicts, and the dates they carry.

Feeds are parsed by ``scrapers.xmlsafe`` (no DTD, entities or network), so a feed declaring a
DOCTYPE (XXE, entity bombs) is refused with ParseError.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from urllib.parse import urljoin

from lxml import etree

from scrapers.base import ParseError
from scrapers.text import plain, safe_url
from scrapers.xmlsafe import parse_xml

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
_XML_JUNK = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_root(body: bytes) -> etree._Element:
    """Return the root of a feed body, parsed safely (no DTD, entities or network)."""
    if not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Stray control bytes (NUL included) are invalid XML; real feeds carry them anyway.
        body = _XML_JUNK.sub(b"", body)
    return parse_xml(body)


def _text(element: etree._Element | None) -> str:
    """Return all text inside an XML element ("" when absent)."""
    return "" if element is None else "".join(element.itertext())


def feed_items(body: bytes, base_url: str = "") -> tuple[dict[str, str], list[dict[str, str]]]:
    """Return (channel {title, link}, items [{title, link, guid, published, summary, ...}])."""
    root = _xml_root(body)
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise ParseError("RSS feed without <channel>")
        info = {"title": plain(channel.findtext("title")), "link": channel.findtext("link") or ""}
        entries = [_rss_item(item) for item in channel.iter("item")]
    elif root.tag == f"{ATOM}feed":
        link = next((_atom_href(el) for el in root.findall(f"{ATOM}link")), "")
        info = {"title": plain(_text(root.find(f"{ATOM}title"))), "link": link}
        entries = [_atom_entry(entry) for entry in root.findall(f"{ATOM}entry")]
    elif etree.QName(root).localname == "RDF":
        channel = root.find(f"{RSS1}channel")
        info = {"title": plain(_text(channel.find(f"{RSS1}title")) if channel is not None else "")}
        info["link"] = _text(channel.find(f"{RSS1}link")) if channel is not None else ""
        entries = [_rss1_item(item) for item in root.iter(f"{RSS1}item")]
    else:
        raise ParseError(f"not an RSS or Atom feed (root element {root.tag!r})")
    base = safe_url(info["link"]) or safe_url(base_url)
    info["link"] = base
    for entry in entries:
        entry["link"] = safe_url(urljoin(base, entry["link"].strip())) if entry["link"] else ""
    return info, entries


def _rss_item(item: etree._Element) -> dict[str, str]:
    """Return the fields of an RSS 2.0 <item>."""
    guid = item.find("guid")
    enclosure = item.find("enclosure")
    atom_link = item.find(f"{ATOM}link")
    return {
        "title": plain(item.findtext("title")),
        "link": item.findtext("link") or (_atom_href(atom_link) if atom_link is not None else ""),
        "guid": plain(_text(guid)),
        "permalink": "" if guid is None or guid.get("isPermaLink") == "false" else _text(guid),
        "published": (item.findtext("pubDate") or item.findtext(DC_DATE) or "").strip(),
        "summary": plain(item.findtext("description") or item.findtext(CONTENT_ENCODED)),
        "enclosure": safe_url(enclosure.get("url")) if enclosure is not None else "",
    }


def _rss1_item(item: etree._Element) -> dict[str, str]:
    """Return the fields of an RSS 1.0 (RDF) <item>."""
    return {
        "title": plain(_text(item.find(f"{RSS1}title"))),
        "link": _text(item.find(f"{RSS1}link")),
        "guid": plain(item.get(RDF_ABOUT, "")),
        "permalink": "",
        "published": _text(item.find(DC_DATE)).strip(),
        "summary": plain(_text(item.find(f"{RSS1}description"))),
        "enclosure": "",
    }


def _atom_href(link: etree._Element) -> str:
    """Return the href of an Atom link when it points at the page itself."""
    return link.get("href", "") if link.get("rel", "alternate") == "alternate" else ""


def _atom_entry(entry: etree._Element) -> dict[str, str]:
    """Return the fields of an Atom <entry>."""
    links = [_atom_href(el) for el in entry.findall(f"{ATOM}link")]
    summary = entry.find(f"{ATOM}summary")
    if summary is None:
        summary = entry.find(f"{ATOM}content")
    published = _text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}updated"))
    return {
        "title": plain(_text(entry.find(f"{ATOM}title"))),
        "link": next((href for href in links if href), ""),
        "guid": plain(_text(entry.find(f"{ATOM}id"))),
        "permalink": "",
        "published": published.strip(),
        "summary": plain(_text(summary)),
        "enclosure": "",
    }


def parse_date(value: object) -> dt.date | None:
    """Return the calendar date of an RFC 822 or ISO 8601 timestamp as written, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        try:
            return dt.date(*map(int, match.groups()))
        except ValueError:
            return None
    return None
