"""Hostile inputs, generated in code: XML attacks, broken JSON, markup that tries to run."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable, Iterator
from typing import Any

ATOM = "http://www.w3.org/2005/Atom"

# Markup and links that must never run: in stored text, on pages, in feeds and emails.
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "java\tscript:alert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "</title><script>alert(1)</script>",
    "]]><script>alert(1)</script>",
    '<a href="javascript&colon;alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    "{{ settings.SECRET_KEY }}{% debug %}",
]
# Cells a spreadsheet would run as a formula.
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
# Query-string values every filter must survive.
QUERY_VALUES = [
    "' OR 1=1 --",
    "1; DROP TABLE tracker_event;--",
    '" UNION SELECT password FROM auth_user --',
    "%' AND SLEEP(5) AND '%'='",
    "x" * 10_000,
    "a\x00b",
    "\u202e\u0000\ud7ff\U0001f600 ünïcødé 監視",
    "../../../../etc/passwd",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "",
    "[]",
    "{}",
]

# --- XML ----------------------------------------------------------------------------------


def feed(entries: str = "", ns: str = ATOM, head: str = "") -> bytes:
    """An Atom feed document with ``head`` (a DOCTYPE, say) before the root."""
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f'{declaration}{head}<feed xmlns="{ns}">{entries}</feed>'.encode()


def xml_attacks(victim_url: str) -> dict[str, bytes]:
    """XML documents that try to read files, reach the network or exhaust memory."""
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    quadratic = "a" * 50_000
    return {
        "xxe_file": feed(
            "<title>&xxe;</title><entry><title>&xxe;</title></entry>",
            head='<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ),
        "xxe_http": feed(
            "<title>&xxe;</title>",
            head=f'<!DOCTYPE feed [<!ENTITY xxe SYSTEM "{victim_url}/xxe">]>',
        ),
        "xxe_metadata": feed(
            "<title>&xxe;</title>",
            head='<!DOCTYPE feed [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>',
        ),
        "dtd_external": feed(head=f'<!DOCTYPE feed SYSTEM "{victim_url}/evil.dtd">'),
        "dtd_parameter_entity": feed(
            head=f'<!DOCTYPE feed [<!ENTITY % remote SYSTEM "{victim_url}/p.dtd"> %remote;]>'
        ),
        "billion_laughs": feed(
            "<title>&lol9;</title>", head=f'<!DOCTYPE feed [<!ENTITY lol0 "lol">{lol}]>'
        ),
        "quadratic_blowup": feed(
            "<title>" + "&a;" * 50_000 + "</title>",
            head=f'<!DOCTYPE feed [<!ENTITY a "{quadratic}">]>',
        ),
        "doctype_utf16": feed(
            "<title>&xxe;</title>",
            head='<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        )
        .decode()
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
        .encode("utf-16"),
        "xinclude": feed(
            '<entry xmlns:xi="http://www.w3.org/2001/XInclude">'
            '<xi:include href="file:///etc/passwd" parse="text"/></entry>'
        ),
        "deep_nesting": feed("<x>" * 100_000 + "</x>" * 100_000),
        "wide_attribute": feed(f'<entry a="{"x" * 5_000_000}"/>'),
        "not_xml": b"\x00\x01\x02 garbage <<<>>>",
        "empty": b"",
        "html_error_page": b"<html><body><h1>503 Service Unavailable</h1></body></html>",
    }


def truncations(body: bytes, cuts: int = 6) -> Iterator[tuple[str, bytes]]:
    """The body cut at ``cuts`` evenly spaced points."""
    for n in range(1, cuts + 1):
        at = len(body) * n // (cuts + 1)
        yield f"truncated_at_{at}", body[:at]


def wrong_namespaces(body: bytes) -> dict[str, bytes]:
    """The same feed under another namespace, without one, and as RSS."""
    text = body.decode("utf-8")
    return {
        "atom_ns_swapped": text.replace(ATOM, "http://example.org/not-atom").encode(),
        "atom_ns_removed": text.replace(f' xmlns="{ATOM}"', "").encode(),
        "fpds_ns_swapped": text.replace("https://www.fpds.gov/FPDS", "urn:evil").encode(),
        "rss_root": b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
    }


# --- JSON ---------------------------------------------------------------------------------

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><script>alert(1)</script></body></html>"
)


def _first_number(data: dict | list, value: float) -> bool:
    """Replace the first number found in ``data`` (in place) with ``value``."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, item in list(items):
        if isinstance(item, int | float) and not isinstance(item, bool):
            data[key] = value
            return True
        if isinstance(item, dict | list) and _first_number(item, value):
            return True
    return False


def _records(data: Any) -> list[dict]:
    """The list of record objects inside a page (``results``, ``opportunitiesData``, or itself)."""
    if isinstance(data, dict):
        for key in ("results", "opportunitiesData"):
            if isinstance(data.get(key), list):
                return [r for r in data[key] if isinstance(r, dict)]
        return [data]
    return []


def _each_record(data: Any, change: Callable[[dict], dict]) -> bytes:
    data = copy.deepcopy(data)
    for record in _records(data):
        changed = change(record)
        record.clear()
        record.update(changed)
    return json.dumps(data).encode()


def _wrong_type(value: Any) -> Any:
    if isinstance(value, str):
        return {"unexpected": [value]}
    if isinstance(value, bool | int | float):
        return str(value) + "x"
    if isinstance(value, dict | list):
        return 12345
    return ["null", None]


def json_attacks(good: bytes) -> dict[str, bytes]:
    """Broken, hostile and drifted variants of a good JSON page."""
    data = json.loads(good)
    attacks: dict[str, bytes] = dict(truncations(good, 4))
    specials = (("nan", float("nan")), ("infinity", float("inf")), ("minus_inf", -float("inf")))
    for name, value in specials:
        copied = copy.deepcopy(data)
        if _first_number(copied, value):
            attacks[name] = json.dumps(copied).encode()
    attacks.update(
        {
            "deep_array": b'{"results": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
            "deep_object": b'{"results": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}",
            "html_error_page": HTML_ERROR_PAGE,
            "xml_error_page": b'<?xml version="1.0"?><error>rate limited</error>',
            "empty": b"",
            "null": b"null",
            "array": b"[1, 2, 3]",
            "string": b'"results"',
            "not_utf8": b'{"results": ["\xff\xfe\xfa"]}',
            "huge_number": good.replace(b"1", b"1" + b"9" * 400, 1),
            "results_not_list": b'{"results": {"a": 1}, "opportunitiesData": "x", "id": []}',
            "renamed_fields": _each_record(data, lambda r: {f"{k}_v2": v for k, v in r.items()}),
            "missing_fields": _each_record(data, lambda r: dict(list(r.items())[: len(r) // 3])),
            "wrong_types": _each_record(data, lambda r: {k: _wrong_type(v) for k, v in r.items()}),
            "all_null": _each_record(data, lambda r: dict.fromkeys(r)),
            "nul_bytes": json.dumps(_nul_everywhere(data)).encode(),
            "xss_everywhere": json.dumps(_xss_everywhere(data)).encode(),
        }
    )
    return attacks


def _nul_everywhere(data: Any) -> Any:
    if isinstance(data, str):
        return f"\x00{data}\x00"
    if isinstance(data, dict):
        return {k: _nul_everywhere(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_nul_everywhere(v) for v in data]
    return data


def _xss_everywhere(data: Any, path: str = "") -> Any:
    """Every string value gets a hostile payload appended (ids keep working)."""
    if isinstance(data, str):
        if data.startswith("http"):
            return "javascript:alert(document.domain)//" + data
        return f"{data} {XSS[len(path) % len(XSS)]}"
    if isinstance(data, dict):
        return {k: _xss_everywhere(v, path + k) for k, v in data.items()}
    if isinstance(data, list):
        return [_xss_everywhere(v, path) for v in data]
    return data


# --- HTTP ---------------------------------------------------------------------------------


def gzip_bomb(decoded_mb: int = 200) -> bytes:
    """A gzip body a few hundred KB long that inflates to ``decoded_mb`` MB of zeros."""
    return gzip.compress(b"\x00" * (decoded_mb * 2**20), compresslevel=9)
