"""Text helpers shared by the sources: cleaning, HTML to text, safe URLs, decoding, ids, kinds."""

from __future__ import annotations

import codecs
import datetime as dt
import html
import re
import unicodedata
import warnings
from typing import Any
from urllib.parse import urlsplit

import nh3
from bs4 import BeautifulSoup, CData, NavigableString, Tag, XMLParsedAsHTMLWarning

# C0 controls except \t and \n, plus DEL; \r is turned into \n before this applies.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")

NOISE_TAGS = {
    "script", "style", "noscript", "template", "iframe", "svg",
    "nav", "footer", "header", "aside", "form", "head", "title", "button",
}  # fmt: skip
BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "blockquote", "pre", "figure", "figcaption",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "tr", "hr", "address",
}  # fmt: skip
SAFE_TAGS = {"p", "br", "a", "em", "strong", "ul", "ol", "li", "blockquote"}
SAFE_SCHEMES = {"http", "https"}
# Encodings that can smuggle markup past a byte-level look ("+ADw-script+AD4-").
_REFUSED_CHARSETS = {"utf-7"}
_LATIN_FAMILY = {"ascii", "iso8859-1", "cp1252", "iso8859-15"}
# What browsers strip from both ends of an href before reading its scheme.
_URL_EDGE = "".join(map(chr, range(0x21))) + "\x7f"


def _normalise(text: str) -> str:
    """Return ``text`` NFC-normalised, without control characters, with tidy whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_text(value: object) -> str:
    """Return ``value`` as plain text: entities unescaped, no NUL/controls, tidy spaces, NFC."""
    if value is None:
        return ""
    text = str(value)
    # Fast path for the common case: printable ASCII with nothing to unescape or tidy.
    if text.isascii() and text.isprintable() and "&" not in text and "  " not in text:
        return text.strip()
    return _normalise(html.unescape(text))


def element_text(element: Tag) -> str:
    """Return the readable text of a parsed element, without page furniture, blocks on new lines."""
    # An explicit stack keeps this linear and recursion-free on hostile, deeply nested markup.
    pieces: list[str] = []
    stack: list[object] = [element]
    while stack:
        node = stack.pop()
        if type(node) is str:  # a block's closing break, pushed below
            pieces.append(node)
        elif isinstance(node, NavigableString):
            if type(node) in (NavigableString, CData):  # not comments, doctypes, script text
                pieces.append(str(node))
        elif isinstance(node, Tag) and node.name not in NOISE_TAGS:
            if node.name == "br":
                pieces.append("\n")
                continue
            if node.name in BLOCK_TAGS:
                pieces.append("\n\n")
                stack.append("\n\n")
            stack.extend(reversed(node.contents))
    return _normalise("".join(pieces))


def parse_html(markup: str) -> BeautifulSoup:
    """Return ``markup`` parsed leniently as HTML (lxml), XHTML included."""
    with warnings.catch_warnings():
        # XHTML pages start with an XML declaration; reading them as HTML is intended.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(markup, "lxml")


def html_to_text(markup: str | bytes | None) -> str:
    """Return the readable plain text of an HTML fragment or page (paragraph breaks kept)."""
    if not markup:
        return ""
    if isinstance(markup, bytes):
        markup = decode_body(markup, None)
    markup = markup.replace("\x00", "")
    if "<" not in markup:
        return clean_text(markup)
    return element_text(parse_html(markup))


def plain(value: object) -> str:
    """Return a short field (title, description) as plain text, stripping markup if any."""
    text = "" if value is None else str(value)
    return html_to_text(text) if "<" in text else clean_text(text)


def safe_url(url: object) -> str:
    """Return ``url`` cleaned if it is an absolute http(s) URL with a host, else ""."""
    if not isinstance(url, str):
        return ""
    # Browsers drop tabs/newlines anywhere and controls/spaces at the ends, so "java\tscript:"
    # and "&#106;avascript:" must be judged after the same clean-up.
    candidate = html.unescape(url)
    candidate = re.sub(r"[\t\n\r]", "", candidate).strip(_URL_EDGE)
    if _CONTROL.search(candidate) or not candidate:
        return ""
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return ""
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return ""
    return candidate


def _href_filter(element: str, attribute: str, value: str) -> str | None:
    """Return the attribute value to keep, or None to drop it (only safe http(s) hrefs)."""
    if element == "a" and attribute == "href":
        return safe_url(value) or None
    return value


def sanitize_html(markup: str | None) -> str:
    """Return ``markup`` reduced to a small safe tag set (p, br, a[http(s) href], em, strong...)."""
    if not markup:
        return ""
    return nh3.clean(
        _CONTROL.sub("", markup),
        tags=SAFE_TAGS,
        attributes={"a": {"href"}},
        attribute_filter=_href_filter,
        url_schemes=SAFE_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 rejected as cp1252 (mixed-encoding pages), replacing the rest."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("spyglass-cp1252", _cp1252_fallback)


def _codec_name(charset: str | None) -> str:
    """Return the Python codec name for a declared charset, or "" if unknown or refused."""
    if not charset:
        return ""
    try:
        name = codecs.lookup(charset.strip().strip("\"'").lower()).name
    except (LookupError, ValueError):
        return ""
    return "" if name in _REFUSED_CHARSETS else name


def decode_body(body: bytes, declared_charset: str | None) -> str:
    """Return ``body`` decoded: declared charset, else UTF-8, else UTF-8 mixed with cp1252."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
        declared_charset = "utf-8"
    codec = _codec_name(declared_charset)
    if codec:
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            # A page labelled latin-1/cp1252 that is valid UTF-8 is almost always UTF-8.
            if codec not in _LATIN_FAMILY or body.isascii():
                return text
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="spyglass-cp1252")


_PITCH = re.compile(
    r"\bpitch(?:ed|es|ing)\b"
    r"|\bsales pitch"
    r"|\bpitch (?:to|for)\b"
    r"|\bpush(?:ed|es|ing)?\b[^.]{0,120}?\bto (?:purchase|buy|acquire|adopt)\b"
    r"|\boffer(?:ed|ing|s)? (?:up )?(?:its|their|his|her|the)\b[^.]{0,100}?\b(?:to|for)\b"
    r"|\bmarket(?:ed|ing|s)\b[^.]{0,80}?\bto (?:police|law enforcement|the |agenc|officials)"
    r"|\b(?:demo(?:s|ed)?|demonstrat(?:ed|es|ing|ion))\b[^.]{0,80}?"
    r"\b(?:to|for) (?:police|law enforcement|the |agenc|officials)"
    r"|\bpropos(?:al|ed) to\b",
    re.IGNORECASE,
)
_MEETING = re.compile(
    r"\bmet (?:with|at|in|on|privately|last|earlier)\b"
    r"|\bmeetings? (?:between|with)\b"
    r"|\bboot ?camp\b"
    r"|\b(?:attended|hosted|held) (?:a |the )?(?:meeting|briefing|summit|conference|workshop)\b",
    re.IGNORECASE,
)


def suggest_kind(text: str) -> str:
    """Return "pitch", "meeting" or "report" for a story, by wording alone (a curator confirms).

    "pitch" wins when a vendor is described offering, pitching, marketing, demonstrating or
    proposing technology to someone; "meeting" when officials are described meeting and no
    pitch is; everything else is a "report".
    """
    if _PITCH.search(text):
        return "pitch"
    if _MEETING.search(text):
        return "meeting"
    return "report"


def scrub(value: Any, depth: int = 0) -> Any:
    """Return a JSON-like value with NUL bytes removed from every string (nesting capped at 40)."""
    if depth > 40:
        return "[nested too deeply]"
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {scrub(str(k)): scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, depth + 1) for v in value]
    return value


def int_id(value: Any) -> str:
    """Return a non-negative integer id (int, or a digit string) as a decimal string, else ""."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value) if value >= 0 else ""
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value.strip()))
    return ""


def iso_date(value: Any) -> dt.date | None:
    """Return the date an ISO 8601 date or timestamp starts with, else None."""
    if not isinstance(value, str):
        return None
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None
