"""News source: feeds and articles parsed field by field, hostile markup, feed-to-article fetch."""

import datetime as dt
import json
import re

import pytest

from scrapers import news
from scrapers.base import Page, ParseError, Query, SourceUnavailable
from tests.support.server import Reply

WIRED_URL = "https://www.wired.com/story/israel-surveillance-state-out-of-control-west-bank/"
PITCH_URL = "https://www.example-post.com/entry/amazon-facial-recognition-ice_n_5bd0a8e4"


def parse_file(path, url="file:///replay/page", **kwargs):
    return news.parse(Page(url=url, body=path.read_bytes(), **kwargs))


@pytest.fixture
def news_fixtures(own_fixtures):
    return own_fixtures / "news"


# --- real samples ------------------------------------------------------------------------


def test_intercepted_rss_gives_one_record_per_item(shared_fixtures):
    parsed = parse_file(shared_fixtures / "news" / "rss_intercepted_2018-01-20.xml")
    assert (len(parsed.records), parsed.problems, parsed.drift) == (43, [], [])
    first = parsed.records[0]
    assert first.source == "news"
    assert first.kind == "report"
    assert first.title == "White Mirror"
    assert first.extra["guid"] == "3660ad94-fb38-11e7-847d-436a066985fa"
    # Podcast items have no <link>: the guid, scoped to the channel link, is the id.
    assert (
        first.external_id
        == "https://theintercept.com/podcasts#3660ad94-fb38-11e7-847d-436a066985fa"
    )
    assert first.url == "http://traffic.megaphone.fm/PPY1407171456.mp3?updated=1516180736"
    assert first.date == dt.date(2018, 1, 17)
    assert first.summary.startswith("Jeremy lays out the bloody US history in Haiti")
    assert "former CIA operative and Cipher Brief columnist" in first.text  # &nbsp; unescaped
    assert first.extra["feed_title"] == "Intercepted with Jeremy Scahill"
    assert first.review is False
    last = parsed.records[-1]
    assert (last.title, last.date) == (
        "Introducing Intercepted with Jeremy Scahill",
        dt.date(2017, 1, 13),
    )
    assert len({r.external_id for r in parsed.records}) == 43
    json.dumps([r.raw for r in parsed.records])


def test_wired_article_fields(shared_fixtures):
    path = shared_fixtures / "news" / "article_wired_israel-surveillance-west-bank.html"
    parsed = parse_file(path)
    assert (len(parsed.records), parsed.problems) == (1, [])
    record = parsed.records[0]
    assert record.external_id == WIRED_URL
    assert record.url == WIRED_URL
    assert record.title == "Intensified Israeli Surveillance Has Put the West Bank on Lockdown"
    assert record.date == dt.date(2023, 11, 7)
    assert record.extra["byline"] == "Tom Bennett"  # <meta name="author"> says "Condé Nast"
    assert record.extra["site_name"] == "WIRED"
    assert "Around 35,000 Palestinians and 850 Israeli settlers live in this area" in record.text
    assert record.summary.startswith("On Sunday, October 29, Ahmed Azza was given permission")
    assert record.kind == "report"
    assert record.review is False
    for junk in ("<script", "window.", "function(", "Condé Nast", "<p>"):
        assert junk not in record.text
    assert record.raw["text_length"] == len(record.text)
    assert record.raw["published"] == "2023-11-07T07:00:00.000Z"
    assert len(json.dumps(record.raw)) < 5000  # extracted fields only, never the 0.9 MB page


def test_wired_article_without_ld_json_falls_back_to_the_article_element(shared_fixtures):
    body = (
        shared_fixtures / "news" / "article_wired_israel-surveillance-west-bank.html"
    ).read_bytes()
    body = re.sub(rb"<script[^>]*ld\+json[^>]*>.*?</script>", b"", body, flags=re.S)
    record = news.parse(Page(url="file:///wired.html", body=body)).records[0]
    assert "Around 35,000 Palestinians and 850 Israeli settlers live in this area" in record.text
    assert "function(" not in record.text
    assert record.extra["byline"] == "Tom Bennett"  # article:author, a name here, not a URL
    assert record.date == dt.date(2023, 11, 7)


# --- own feeds ---------------------------------------------------------------------------


def test_rss_feed_records(news_fixtures):
    parsed = parse_file(news_fixtures / "rss_two_items.xml", url="https://news.example.org/feed/")
    assert parsed.problems == []
    first, second = parsed.records
    assert (
        first.external_id == "https://news.example.org/2018/10/23/amazon-pitched-rekognition-ice/"
    )
    assert first.url == first.external_id  # utm_* tracking parameters dropped
    assert first.title == "Amazon Pitched Rekognition to ICE, Emails Show"
    assert first.date == dt.date(2018, 10, 23)
    assert first.summary == (
        "Amazon Web Services offered its Rekognition face recognition software to "
        "Immigration and Customs Enforcement."
    )
    assert first.text == first.summary  # the <script> in the CDATA is gone
    assert first.kind == "report"
    assert first.extra == {
        "guid": "news-example-2018-1023-rekognition",
        "feed_title": "Surveillance Desk & Friends",
        "feed_url": "https://news.example.org/feed/",
    }
    assert second.external_id == "https://news.example.org/2019/03/04/cbp-license-plate-readers/"
    assert second.date == dt.date(2019, 3, 4)
    assert second.raw["guid"] == "https://news.example.org/?p=4242"


def test_atom_feed_records(news_fixtures):
    parsed = parse_file(news_fixtures / "atom_two_entries.xml")
    assert parsed.problems == []
    first, second = parsed.records
    # A relative href is resolved against the feed's alternate link.
    assert first.external_id == "https://watch.example.net/2020/07/springfield-clearview/"
    assert first.title == "Police in Springfield test Clearview AI"
    assert first.date == dt.date(2020, 7, 1)  # <published>, not <updated>
    assert first.summary == (
        "Records show the Springfield Police Department ran a trial of Clearview AI "
        "face recognition."
    )
    assert first.extra["guid"] == "tag:watch.example.net,2020:springfield-clearview"
    assert first.extra["feed_title"] == "Procurement Watch"
    assert second.external_id == "https://watch.example.net/2020/06/ice-cell-site-simulators/"
    assert second.date == dt.date(2020, 6, 15)  # only <updated>
    assert (
        second.summary
        == "Immigration and Customs Enforcement renewed its order for cell-site simulators."
    )


def test_feed_items_drop_unsafe_links_and_dedupe():
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <link>https://example.org/</link>
    <item><title>A</title><link>java\tscript:alert(1)</link><guid>g-1</guid></item>
    <item><title>A again</title><link>java\tscript:alert(1)</link><guid>g-1</guid></item>
    <item><title>No id at all</title></item>
    <item><title>NUL\x00 in title</title><link>https://example.org/b</link></item>
    </channel></rss>"""
    parsed = news.parse(Page(url="file:///f.xml", body=body))
    assert [r.external_id for r in parsed.records] == [
        "https://example.org/#g-1",
        "https://example.org/b",
    ]
    assert parsed.records[1].title == "NUL in title"
    assert parsed.problems == ["item 3 ('No id at all'): no link or guid"]


@pytest.mark.parametrize("name", ["feed_xxe.xml", "feed_billion_laughs.xml"])
def test_hostile_feeds_are_refused(news_fixtures, name):
    with pytest.raises(ParseError) as caught:
        parse_file(news_fixtures / name)
    assert "root:" not in str(caught.value)
    assert "lol" not in str(caught.value)


def test_feed_with_entity_smuggled_without_doctype_is_refused():
    body = b'<?xml version="1.0"?><rss><channel><title>&xxe;</title></channel></rss>'
    with pytest.raises(ParseError):
        news.parse(Page(url="file:///f.xml", body=body))


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b"just some words", b'{"json": true}', b"<?xml version='1.0'?><html-ish"],
)
def test_unusable_bodies_raise_parse_error(body):
    with pytest.raises(ParseError):
        news.parse(Page(url="https://example.org/x", body=body))


def test_html_doctype_with_a_long_head_is_still_an_article():
    body = b"<!DOCTYPE html>" + b"<!-- padding -->" * 400 + b"<html><title>Late</title><p>t</p>"
    assert news.parse(Page(url="https://example.org/x", body=body)).records[0].title == "Late"


def test_unknown_xml_root_is_not_a_feed():
    with pytest.raises(ParseError, match="not an RSS or Atom feed"):
        news.parse(Page(url="file:///x.xml", body=b"<?xml version='1.0'?><urlset/>"))


# --- own articles ------------------------------------------------------------------------


def test_pitch_article_from_the_seed_story(news_fixtures):
    parsed = parse_file(
        news_fixtures / "article_rekognition_pitch.html",
        url=PITCH_URL + "?utm_source=twitter",
        content_type="text/html; charset=utf-8",
    )
    record = parsed.records[0]
    assert record.external_id == PITCH_URL
    assert record.url == PITCH_URL
    assert (
        record.title
        == "Amazon Pitched Its Controversial Facial Recognition Tech To ICE, Emails Show"
    )
    assert record.date == dt.date(2018, 10, 24)
    assert record.kind == "pitch"
    assert record.review is True
    assert record.extra["byline"] == "Alex Journalist, Sam Writer"  # not "Example Media Group"
    assert record.extra["site_name"] == "Example Post"
    for phrase in (
        "pitched its real-time “Rekognition” video analysis software",
        "Immigration and Customs Enforcement",
        "Homeland Security Investigations",
        "Amazon Web Services",
        "McKinsey-sponsored technology “boot camp”",
    ):
        assert phrase in record.text
    for junk in (
        "TRACKING",
        "dataLayer",
        "Subscribe",
        "Ten gadgets",
        "Sign up",
        "All rights",
        "NOSCRIPT",
        "serif",
    ):
        assert junk not in record.text
    assert record.summary == (
        "Amazon Pitched Its Controversial Facial Recognition Tech To ICE, Emails Show\n"
        "ICE said it doesn't have a contract with Amazon for “Rekognition,” but it has used "
        "similar software in the past."
    )
    assert record.raw["byline"] == "Alex Journalist, Sam Writer"
    assert record.raw["feed_item"] is None


def test_hostile_article_is_cleaned(news_fixtures):
    parsed = parse_file(
        news_fixtures / "article_hostile.html",
        url="https://hostile.example.com/story#comments",
        content_type="text/html; charset=UTF-8",
    )
    record = parsed.records[0]
    # The canonical link and og:url are disguised javascript: URLs, so the page URL is the id.
    assert record.external_id == "https://hostile.example.com/story"
    assert record.title == "CBP drones over the border"
    assert record.text == (
        "Customs and Border Protection flew Predator drones over Arizona, records show \u2013 at a "
        "cost of € 12 million.\n\nOfficials met with the vendor here and there.\n\n"
        "The program expanded in 2019"
    )
    everything = json.dumps([record.title, record.summary, record.text, record.raw, record.extra])
    for bad in ("alert", "INJECTED", "SVG", "javascript", "onerror", "\\u0000", "<"):
        assert bad not in everything
    assert record.kind == "meeting"
    assert record.review is True


def test_article_without_canonical_takes_the_feed_item(news_fixtures):
    body = (
        b"<html><head><title>Plain page</title></head><body><p>ICE bought drones.</p></body></html>"
    )
    item = {
        "link": "https://news.example.org/ice-drones",
        "published": "Tue, 02 Jun 2020 10:00:00 GMT",
    }
    page = Page(url="file:///replay/000002.html", body=body, meta={"kind": "article", "item": item})
    record = news.parse(page).records[0]
    assert record.external_id == "https://news.example.org/ice-drones"
    assert record.title == "Plain page"
    assert record.date == dt.date(2020, 6, 2)
    assert record.text == "ICE bought drones."
    assert record.raw["feed_item"] == item


def test_article_without_any_http_url_is_refused():
    with pytest.raises(ParseError, match="no http"):
        news.parse(Page(url="file:///x.html", body=b"<html><p>text</p></html>"))


def test_article_charset_from_meta_tag():
    body = '<html><head><meta charset="iso-8859-1"><title>Überwachung</title></head></html>'
    page = Page(url="https://example.de/a", body=body.encode("iso-8859-1"))
    assert news.parse(page).records[0].title == "Überwachung"


def test_xhtml_article_with_xml_declaration_is_an_article():
    body = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>X</title></head><body><p>ok</p></body></html>'
    record = news.parse(Page(url="https://example.org/x", body=body)).records[0]
    assert (record.title, record.text) == ("X", "ok")


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>" + b"<div>" * 100_000 + b"<p>deep text</p>" + b"</div>" * 100_000,
        b"<article>" * 50_000 + b"<p>deep text</p>",
        b"<title>deep text</title><p>" + b"<br>" * 100_000 + b"end</p>",
    ],
)
def test_huge_and_deep_markup_does_not_crash(body):
    try:
        parsed = news.parse(Page(url="https://example.org/deep", body=body))
    except ParseError:
        return
    assert "deep text" in parsed.records[0].title + parsed.records[0].text


def test_feed_item_and_article_share_an_external_id(news_fixtures):
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>
    <item><title>Amazon pitched ICE</title><link>{PITCH_URL}?utm_campaign=rss#top</link>
    <pubDate>Wed, 24 Oct 2018 18:20:00 GMT</pubDate></item></channel></rss>""".encode()
    feed_record = news.parse(Page(url="https://www.example-post.com/feed", body=feed)).records[0]
    article = parse_file(news_fixtures / "article_rekognition_pitch.html")
    assert feed_record.external_id == article.records[0].external_id == PITCH_URL


# --- fetch -------------------------------------------------------------------------------


def rss(*links):
    items = "".join(
        f"<item><title>Story {n}</title><link>{link}</link><guid>g{n}</guid>"
        f"<pubDate>Mon, 0{n} Jun 2020 10:00:00 GMT</pubDate></item>"
        for n, link in enumerate(links, 1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    )


def article(title):
    return f"<html><head><title>{title}</title></head><body><p>{title} body.</p></body></html>"


def test_fetch_follows_feed_to_articles_and_skips_a_failing_one(server, http_client):
    links = [
        server.url("/a1"),
        server.url("/a2"),
        "javascript:alert(1)",
        server.url("/a3"),
        server.url("/a1"),
    ]
    server.add(
        "/feed.xml", Reply(body=rss(*links), headers={"Content-Type": "application/rss+xml"})
    )
    server.add(
        "/a1", Reply(body=article("One"), headers={"Content-Type": "text/html; charset=utf-8"})
    )
    server.add("/a2", Reply(status=500, body=b"oops"))
    server.add("/a3", Reply(body=article("Three"), headers={"Content-Type": "text/html"}))
    pages = list(news.fetch(http_client, Query(feeds=(server.url("/feed.xml"),))))
    assert [p.meta["kind"] for p in pages] == ["feed", "article", "article"]
    assert [p.url for p in pages[1:]] == [server.url("/a1"), server.url("/a3")]
    assert pages[1].meta["feed_url"] == server.url("/feed.xml")
    assert pages[1].meta["item"]["title"] == "Story 1"
    assert pages[2].meta["item"]["guid"] == "g4"
    assert len(server.requests_to("/a2")) > 1  # retried before giving up
    assert len(server.requests_to("/a1")) == 1  # the repeated link is fetched once
    records = [news.parse(p).records for p in pages]
    # Every item stays in the feed records; the unsafe link leaves only its guid as the id.
    assert [r.title for r in records[0]] == ["Story 1", "Story 2", "Story 3", "Story 4"]
    assert records[0][2].external_id == server.url("/feed.xml") + "#g3"
    assert records[1][0].title == "One"
    assert records[1][0].external_id == server.url("/a1")
    assert records[1][0].date == dt.date(2020, 6, 1)  # from the feed item


def test_fetch_caps_article_fetches_and_reads_direct_urls(server, http_client):
    server.add("/feed.xml", Reply(body=rss(server.url("/a1"), server.url("/a2"))))
    server.add("/a1", Reply(body=article("One")))
    server.add("/a2", Reply(body=article("Two")))
    server.add("/direct", Reply(body=article("Direct")))
    query = Query(feeds=(server.url("/feed.xml"),), urls=(server.url("/direct"),), max_pages=2)
    pages = list(news.fetch(http_client, query))
    assert [p.url for p in pages] == [server.url("/feed.xml"), server.url("/a1"), server.url("/a2")]
    query = Query(urls=(server.url("/direct"), "data:text/html,x"), max_pages=5)
    pages = list(news.fetch(http_client, query))
    assert [(p.url, p.meta) for p in pages] == [(server.url("/direct"), {"kind": "article"})]


def test_fetch_skips_items_older_than_since(server, http_client):
    server.add(
        "/feed.xml", Reply(body=rss(server.url("/a1"), server.url("/a2"), server.url("/a3")))
    )
    for n in (1, 2, 3):
        server.add(f"/a{n}", Reply(body=article(f"A{n}")))
    pages = list(
        news.fetch(http_client, Query(feeds=(server.url("/feed.xml"),), since=dt.date(2020, 6, 2)))
    )
    assert [p.url for p in pages[1:]] == [server.url("/a2"), server.url("/a3")]


def test_fetch_raises_when_every_feed_fails(server, http_client):
    server.add("/feed.xml", Reply(status=503))
    with pytest.raises(SourceUnavailable):
        list(news.fetch(http_client, Query(feeds=(server.url("/feed.xml"),))))


def test_fetch_continues_past_a_failing_feed(server, http_client):
    server.add("/dead.xml", Reply(status=404))
    server.add("/feed.xml", Reply(body=rss(server.url("/a1"))))
    server.add("/a1", Reply(body=article("One")))
    pages = list(
        news.fetch(http_client, Query(feeds=(server.url("/dead.xml"), server.url("/feed.xml"))))
    )
    assert [p.meta["kind"] for p in pages] == ["feed", "article"]
