"""Hostile HTML and RSS through the news (and SAM description) paths: stored text is clean and
renders inert."""

from __future__ import annotations

import json

import pytest

from tests.hostile import report
from tests.hostile.conftest import FIXTURES
from tests.hostile.drive import replay, stored_text_problems
from tests.hostile.inert import inert_problems
from tracker.models import Event, SourceRecord
from tracker.services.scraping import scrape_run

pytestmark = pytest.mark.django_db
ARTICLE = (FIXTURES / "news" / "article_rekognition_pitch.html").read_bytes()
RSS = (FIXTURES / "news" / "rss_two_items.xml").read_bytes()
INJECTED_BODY = (
    b'<p onclick="alert(11)">Amazon pitched <a href="java\tscript:alert(12)">Rekognition</a> '
    b'to ICE <a href="&#106;avascript:alert(13)">again</a>'
    b' <a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxNCk8L3NjcmlwdD4=">docs</a>'
    b'<img src=x onerror="alert(15)"><script>alert(16)</script>'
    b'<svg onload="alert(17)"></svg><iframe src="javascript:alert(18)"></iframe>'
    b'<style>body{background:url("javascript:alert(19)")}</style>'
    b"<noscript><img src=x onerror=alert(20)></noscript><template><script>alert(21)</script>"
    b"</template><math><mtext><script>alert(22)</script></mtext></math></p>"
)
HEAD = (
    b'<link rel="canonical" href="  JaVa&#x09;ScRiPt:alert(23)">'
    b'<meta property="og:url" content="javascript:alert(24)">'
    b'<meta http-equiv="refresh" content="0;url=javascript:alert(25)">'
)


def _article(body: bytes, head: bytes = HEAD, charset: bytes = b"utf-8") -> bytes:
    page = ARTICLE.replace(b'<meta charset="utf-8">', b'<meta charset="' + charset + b'">' + head)
    return page.replace(b"<body>", b"<body>" + body, 1) if b"<body>" in page else page + body


def articles() -> dict[str, bytes]:
    """Articles naming tracked entities, wrapped in hostile markup and encodings."""
    return {
        "scripts_and_handlers": _article(INJECTED_BODY),
        "nul_bytes": _article(INJECTED_BODY.replace(b" ", b"\x00 ")).replace(b"ICE", b"IC\x00E", 1),
        "broken_markup": _article(
            b"<p><b><i>Amazon <div></p></b>ICE <<<>>> </html></body>"
            + INJECTED_BODY
            + b'<!-- --!> <p unclosed="',
            head=b"<title",
        ),
        "cp1252_declared_utf8_sent": _article(
            "ICE and Amazon — “Rekognition” déjà vu".encode() + INJECTED_BODY,
            charset=b"windows-1252",
        ),
        "utf7_smuggling": _article(b"+ADw-script+AD4-alert(26)+ADw-/script+AD4-", charset=b"utf-7"),
        "invalid_utf8": _article(b"\xff\xfe\xc3\x28 Amazon \xe2\x82 ICE" + INJECTED_BODY),
        "utf16": _article(INJECTED_BODY)
        .decode("utf-8")
        .replace('charset="utf-8"', 'charset="utf-16"')
        .encode("utf-16"),
        "unknown_charset": _article(INJECTED_BODY, charset=b"x-evil-42"),
        "deep_nesting": _article(b"<div>" * 50_000 + INJECTED_BODY + b"</div>" * 50_000),
        "empty": b"",
        "binary": bytes(range(256)) * 4,
    }


def feeds() -> dict[str, bytes]:
    """RSS feeds whose items carry script, handlers and script links in every field."""
    hostile = RSS.replace(
        b"<description>",
        b"<description><![CDATA[<script>alert(31)</script><img src=x onerror=alert(32)>"
        b'<a href="javascript:alert(33)">x</a>]]>',
    ).replace(b"<link>", b"<link>java\tscript:alert(34)//")
    return {
        "rss_script_items": hostile,
        "rss_nul": hostile.replace(b"<title>", b"<title>\x00"),
        "rss_truncated": RSS[: len(RSS) // 2],
        "rss_entity_links": RSS.replace(b"<link>", b"<link>&#106;avascript:alert(35)//"),
    }


def test_hostile_articles_and_feeds_store_clean_text(starter, tmp_path, web):
    run = replay("news", tmp_path / "articles", articles(), suffix=".html", web_urls=True)
    assert "crashed" not in run.message
    imported = SourceRecord.objects.filter(source="news").count()
    assert imported >= 6, run.errors
    run = replay("news", tmp_path / "feeds", feeds(), suffix=".xml")
    assert "crashed" not in run.message
    assert SourceRecord.objects.filter(source="news").count() > imported, run.errors
    assert stored_text_problems() == []
    for event in Event.objects.all():
        text = " ".join((event.title, event.summary, event.body_text))
        for needle in ("alert(", "<script", "onerror", "document.write", "javascript:", "data:"):
            assert needle not in text.lower(), (needle, event.title)
    for url in SourceRecord.objects.values_list("url", flat=True):
        assert url == "" or url.startswith(("http://", "https://")), url
    # Whatever was stored renders inert on its page and in the feed.
    for event in Event.objects.all():
        response = web.get(event.get_absolute_url())
        assert response.status_code == 200
        assert inert_problems(response.content.decode()) == []
    assert web.get("/events/feed/").status_code == 200


def test_sam_description_markup_is_cleaned(starter, tmp_path):
    meta = FIXTURES / "sam" / "description_face_recognition.json.meta.json"
    good = FIXTURES / "sam" / "description_face_recognition.json"
    hostile = INJECTED_BODY.decode("utf-8", "replace")
    body = json.dumps({"description": hostile + "\x00 face recognition"})
    folder = tmp_path / "sam"
    folder.mkdir()
    (folder / "description.json").write_text(body, "utf-8")
    (folder / "description.json.meta.json").write_bytes(meta.read_bytes())
    report.count("inputs")
    run = scrape_run(
        source="sam", replay=[FIXTURES / "sam" / "search_face_recognition.json", folder, good]
    )
    assert "crashed" not in run.message
    assert stored_text_problems() == []
    for event in Event.objects.all():
        assert "alert(" not in event.body_text + event.summary
