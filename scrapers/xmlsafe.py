"""Safe parsing of untrusted XML, and namespace-blind lookups by local name.

Feeds are parsed with entity resolution, DTD loading and network access all off, and any
document that declares a DOCTYPE is refused outright: that closes XXE (external entities
reading local files or URLs) and entity-expansion bombs ("billion laughs") in one rule,
since no real feed the tracker reads needs a DTD.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from scrapers.base import ParseError

MAX_XML_BYTES = 50 * 2**20

# "<!DOCTYPE" as it appears in the raw bytes of the encodings a feed may declare.
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec)
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def _parser() -> etree.XMLParser:
    """Return a parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(body: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Return the root element of ``body``; raise ParseError for DTDs, bad syntax or excess size."""
    if not isinstance(body, bytes | bytearray):
        raise ParseError("XML body must be bytes")
    if len(body) > max_bytes:
        raise ParseError(f"XML body is {len(body)} bytes, over the {max_bytes}-byte limit")
    if not body.strip():
        raise ParseError("empty XML body")
    if any(marker in body for marker in _DOCTYPE_MARKERS):
        raise ParseError("DOCTYPE/entity declarations are not allowed")
    try:
        root = etree.fromstring(bytes(body), _parser())
    except (etree.XMLSyntaxError, ValueError, RecursionError) as exc:
        raise ParseError(f"invalid XML: {' '.join(str(exc).split())}") from None
    if root is None:
        raise ParseError("empty XML document")
    docinfo = root.getroottree().docinfo
    # A second check after parsing, for encodings the byte scan above does not cover.
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise ParseError("DOCTYPE/entity declarations are not allowed")
    return root


def local_name(element: etree._Element) -> str:
    """Return the tag of ``element`` without its namespace ("" for non-element nodes)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(element: etree._Element) -> str:
    """Return the namespace URI of ``element`` ("" when it has none)."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def children(element: etree._Element | None, name: str) -> Iterator[etree._Element]:
    """Return the direct children of ``element`` whose local name is ``name``, any namespace."""
    if element is None:
        return
    yield from element.iterchildren("{*}" + name)  # lxml matches any (or no) namespace


def find(element: etree._Element | None, *path: str) -> etree._Element | None:
    """Return the first element reached by following ``path`` (local names), or None."""
    for name in path:
        if element is None:
            return None
        element = next(children(element, name), None)
    return element


def find_descendant(element: etree._Element | None, name: str) -> etree._Element | None:
    """Return the first descendant of ``element`` whose local name is ``name``, or None."""
    if element is None:
        return None
    return next(element.iterdescendants("{*}" + name), None)


def text_of(element: etree._Element | None) -> str:
    """Return the text inside ``element`` (CDATA included), NUL-free and whitespace-collapsed."""
    if element is None:
        return ""
    # A leaf's text is all of it; most fields are leaves, and itertext() costs a generator.
    text = (element.text or "") if len(element) == 0 else "".join(element.itertext())
    return " ".join(text.replace("\x00", "").split())


def text_at(element: etree._Element | None, *path: str) -> str:
    """Return ``text_of`` the element at ``path`` below ``element`` ("" when absent)."""
    return text_of(find(element, *path))


def attr(element: etree._Element | None, name: str) -> str:
    """Return attribute ``name`` of ``element``, whitespace-collapsed ("" when absent)."""
    if element is None:
        return ""
    return " ".join((element.get(name) or "").replace("\x00", "").split())
