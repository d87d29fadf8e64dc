"""The shared text helpers: cleaning, HTML to text, safe URLs, sanitising, decoding, kinds."""

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrapers.text import (
    clean_text,
    decode_body,
    html_to_text,
    int_id,
    iso_date,
    safe_url,
    sanitize_html,
    scrub,
    suggest_kind,
)

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "story.txt"


# --- clean_text --------------------------------------------------------------------------


def test_clean_text_removes_nul_and_controls_but_keeps_newlines():
    assert clean_text("ICE\x00 buys\x07 drones\x1b\nfrom\tCBP") == "ICE buys drones\nfrom CBP"


def test_clean_text_unescapes_entities_and_collapses_spaces():
    assert (
        clean_text("  AT&amp;T &ldquo;Stingray&rdquo;\xa0 \t devices  ")
        == "AT&T “Stingray” devices"
    )


def test_clean_text_normalises_to_nfc_and_paragraphs():
    assert clean_text("Cafe\u0301\r\n\r\n\r\n\r\nNext") == "Café\n\nNext"


def test_clean_text_of_none_and_numbers():
    assert clean_text(None) == ""
    assert clean_text(12) == "12"


@given(st.text())
def test_clean_text_never_leaves_controls(value):
    cleaned = clean_text(value)
    assert not any(ord(c) < 32 and c != "\n" for c in cleaned)
    assert cleaned == cleaned.strip()


# --- html_to_text ------------------------------------------------------------------------


def test_html_to_text_drops_page_furniture_and_keeps_paragraphs():
    page = (
        "<html><head><title>Site</title><style>p{}</style></head><body>"
        "<header>Logo</header><nav>Menu</nav><script>var x = 'SCRIPT';</script>"
        "<p>Amazon pitched <b>Rekognition</b>.</p><p>ICE met<br>AWS.</p>"
        "<aside>Ad</aside><form><button>Go</button></form><footer>Footer</footer>"
        "<noscript>NOSCRIPT</noscript><template>TPL</template><iframe>IFRAME</iframe>"
        "<svg><text>SVG</text></svg></body></html>"
    )
    assert html_to_text(page) == "Amazon pitched Rekognition.\n\nICE met\nAWS."


def test_html_to_text_accepts_bytes_broken_markup_and_entities():
    assert html_to_text(b"<p>CBP &amp; ICE<p>drones <i>over</b> Arizona") == (
        "CBP & ICE\n\ndrones over Arizona"
    )


def test_html_to_text_of_plain_text_and_empty():
    assert html_to_text("no markup &amp; here\x00") == "no markup & here"
    assert html_to_text("") == ""
    assert html_to_text(None) == ""


def test_html_to_text_survives_deep_nesting():
    deep = "<div>" * 100_000 + "<p>deep text</p>" + "</div>" * 100_000
    assert html_to_text(deep) == "deep text"


# --- safe_url ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " \x01javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "//example.com/no-scheme",
        "/relative/path",
        "http:///no-host",
        "https:\\\\evil.example.com",
        "http://[::1",
        "https://exa\x00mple.com/",
        "",
    ],
)
def test_safe_url_rejects_anything_but_absolute_http(url):
    assert safe_url(url) == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.ice.gov/foia/library", "https://www.ice.gov/foia/library"),
        ("  HTTP://Example.com/a?b=1&amp;c=2 \n", "HTTP://Example.com/a?b=1&c=2"),
        ("https://news.example.org/a\tb", "https://news.example.org/ab"),
    ],
)
def test_safe_url_keeps_http_urls(url, expected):
    assert safe_url(url) == expected


def test_safe_url_of_non_strings():
    assert safe_url(None) == ""
    assert safe_url(["https://example.com"]) == ""


# --- sanitize_html -----------------------------------------------------------------------


def test_sanitize_html_keeps_only_the_safe_set():
    dirty = (
        '<p onclick="x()">ICE <em>bought</em> <strong>drones</strong>'
        '<img src=x onerror="alert(1)"><script>alert(2)</script>'
        '<a href="https://www.cbp.gov/" target="_blank" rel="opener">CBP</a>'
        '<a href="java\tscript:alert(3)">bad</a><a href="data:text/html,x">data</a>'
        '<a href="/relative">rel</a></p><ul><li>one</li></ul><blockquote>q</blockquote>'
        "<h1>H</h1><table><tr><td>cell</td></tr></table>"
    )
    assert sanitize_html(dirty) == (
        "<p>ICE <em>bought</em> <strong>drones</strong>"
        '<a href="https://www.cbp.gov/" rel="nofollow noopener">CBP</a>'
        '<a rel="nofollow noopener">bad</a><a rel="nofollow noopener">data</a>'
        '<a rel="nofollow noopener">rel</a></p><ul><li>one</li></ul><blockquote>q</blockquote>'
        "Hcell"
    )


def test_sanitize_html_removes_nul_and_handles_empty():
    assert sanitize_html("<p>a\x00b</p>") == "<p>ab</p>"
    assert sanitize_html("") == ""
    assert sanitize_html(None) == ""


# --- decode_body -------------------------------------------------------------------------


def test_decode_body_uses_the_declared_charset():
    assert decode_body("Güterbahnhof".encode("iso-8859-1"), "iso-8859-1") == "Güterbahnhof"
    assert decode_body("Überwachung".encode("utf-16"), "utf-16") == "Überwachung"


def test_decode_body_falls_back_when_cp1252_is_declared_as_utf8():
    assert (
        decode_body(b"ICE \x96 \x93Rekognition\x94 \x80", "utf-8") == "ICE \u2013 “Rekognition” €"
    )


def test_decode_body_handles_mixed_utf8_and_cp1252():
    body = "Café \u2013 ".encode() + b"\x93quoted\x94"
    assert decode_body(body, None) == "Café \u2013 “quoted”"


def test_decode_body_prefers_utf8_over_a_wrong_latin1_label():
    assert decode_body("façade \u2013 ok".encode(), "iso-8859-1") == "façade \u2013 ok"


def test_decode_body_ignores_unknown_and_dangerous_charsets():
    assert decode_body(b"+ADw-script+AD4-", "utf-7") == "+ADw-script+AD4-"
    assert decode_body(b"plain", "no-such-charset") == "plain"
    assert decode_body(b"plain", "base64") == "plain"


def test_decode_body_strips_a_utf8_bom():
    assert decode_body(b"\xef\xbb\xbfAOSNUMBER", "iso-8859-1") == "AOSNUMBER"


@given(st.binary(), st.sampled_from([None, "utf-8", "cp1252", "latin-1", "utf-16", "bogus", ""]))
def test_decode_body_never_raises(body, charset):
    assert isinstance(decode_body(body, charset), str)


# --- ids, dates, scrub -------------------------------------------------------------------


def test_int_id_normalises_ints_and_digit_strings():
    assert int_id(2622) == "2622"
    assert int_id(" 002622 ") == "2622"
    assert [int_id(v) for v in (True, -1, "12a", None, 1.5, "")] == ["", "", "", "", "", ""]


def test_iso_date():
    assert iso_date("2010-05-12T15:44:15.278766Z") == dt.date(2010, 5, 12)
    assert iso_date("2018-07-31") == dt.date(2018, 7, 31)
    assert [iso_date(v) for v in ("2018-02-30", "12/27/2012", None, 20180101)] == [None] * 4


def test_scrub_removes_nul_everywhere_and_caps_depth():
    assert scrub({"a\x00": ["x\x00y", {"b": "c\x00"}], "n": 1}) == {"a": ["xy", {"b": "c"}], "n": 1}
    deep: list = []
    node = deep
    for _ in range(100):
        node.append([])
        node = node[0]
    assert "[nested too deeply]" in repr(scrub(deep))


# --- suggest_kind ------------------------------------------------------------------------


def test_seed_story_is_a_pitch():
    if not SEED.is_file():
        pytest.skip(f"seed story not available: {SEED} is absent")
    assert suggest_kind(SEED.read_text("utf-8")) == "pitch"


@pytest.mark.parametrize(
    "text",
    [
        "Amazon Pitched Its Controversial Facial Recognition Tech To ICE, Emails Show",
        "Amazon pushed Immigration and Customs Enforcement officials in June to purchase its tool.",
        "Amazon Web Services offered up its real-time Rekognition software to aid ICE.",
        "Palantir marketed its platform to police departments across California.",
        "The vendor gave a demo to agency officials in March.",
        "Records include the company's sales pitch to the sheriff.",
        "The firm sent a proposal to the Department of Homeland Security.",
    ],
)
def test_pitch_wording(text):
    assert suggest_kind(text) == "pitch"


@pytest.mark.parametrize(
    "text",
    [
        "AWS and DHS officials met at the offices of McKinsey to discuss cloud tools.",
        "Emails describe a meeting between ICE officials and Palantir executives.",
        "The technology boot camp was attended by a number of companies.",
        "CBP officials met with the vendor twice in 2019.",
    ],
)
def test_meeting_wording(text):
    assert suggest_kind(text) == "meeting"


@pytest.mark.parametrize(
    "text",
    [
        "A follow-up investigation by the ACLU in July found the software has problematic accuracy"
        " issues, with false matches disproportionately identifying people of color.",
        "Customs and Border Protection spent $3 million on license plate readers last year.",
        "",
    ],
)
def test_report_wording(text):
    assert suggest_kind(text) == "report"


def test_pitch_wins_over_meeting():
    assert suggest_kind("Officials met with Amazon, which pitched Rekognition to them.") == "pitch"
