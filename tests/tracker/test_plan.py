"""A source's default query from the database (``source_query``) and ``scrape SOURCE --plan``."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.support.server import Reply, ScriptedServer
from tracker.models import Agency, ScrapeRun, TaggingRule, Vendor, VendorAlias
from tracker.services import plan as plan_service
from tracker.services import starter as starter_service
from tracker.services.plan import Plan, PlanningClient, PlanTooLong, query_summary, scrape_plan
from tracker.services.scraping import SOURCES, source_query

pytestmark = pytest.mark.django_db
COUNT_LINE = re.compile(r"^(\d+) requests? \(.+\)$")


def query(source: str = "usaspending", **dates: dt.date):
    return source_query(source, since=dates.get("since"), until=dates.get("until"))


# ---------------------------------------------------------------- source_query


def test_keywords_are_the_search_term_rules_sorted(starter):
    keywords = query().keywords
    assert keywords == tuple(sorted(keywords))
    assert {"face recognition", "license plate reader", "cell-site simulator"} <= set(keywords)
    expected = TaggingRule.objects.filter(kind="keyword", search_term=True, active=True)
    assert set(keywords) == set(expected.values_list("value", flat=True))
    TaggingRule.objects.filter(value="face recognition", kind="keyword").update(active=False)
    assert "face recognition" not in query().keywords


def test_codes_are_code_shaped_strong_rules(starter):
    psc = query().psc_codes
    assert "1550" in psc  # unmanned aircraft, strong
    assert "unmanned aircraft" not in psc  # a description, which no source filters by
    assert "1510" not in psc  # fixed-wing aircraft: supporting, would sweep every aircraft buy


def test_vendor_family_names_and_subsidiary_ueis(starter):
    palantir = Vendor.objects.get(slug="palantir")
    usg = Vendor.objects.get(slug="palantir-usg")
    Vendor.objects.filter(pk=palantir.pk).update(uei="PALANTIR0001")
    Vendor.objects.filter(pk=usg.pk).update(uei="PALANTIRUSG1")
    VendorAlias.objects.create(vendor=usg, name="Palantir Government")
    unreviewed = Vendor.objects.create(
        name="Palantir Lookalike LLC", parent=palantir, uei="LOOKALIKE001", needs_review=True
    )
    assert TaggingRule.objects.filter(kind="vendor", vendor=palantir, strength="strong").exists()

    names, ueis = query().vendor_names, query().vendor_ueis
    # The family: the vendor a strong rule names, its aliases, its subsidiaries and theirs.
    assert {
        "Palantir Technologies Inc.",
        "Palantir",
        "Palantir USG, Inc.",
        "Palantir Government",
    } <= (set(names))
    assert {"PALANTIR0001", "PALANTIRUSG1"} <= set(ueis)
    # An import's unreviewed row under the family is not swept until a curator checks it.
    assert unreviewed.name not in names and "LOOKALIKE001" not in ueis
    # A strong rule with no vendor row is swept by its own spelling.
    assert "Cognitec Systems" in names
    assert names == tuple(sorted(names, key=lambda n: (n.casefold(), n)))
    assert ueis == tuple(sorted(ueis))


def test_vendors_without_a_strong_rule_are_not_swept(starter):
    names = query().vendor_names
    assert "Axon Enterprise, Inc." not in names  # body-worn cameras: a supporting rule only
    assert "Amazon.com, Inc." not in names  # no vendor rule at all
    Vendor.objects.create(name="Reviewed Office Supplies Inc.")
    assert "Reviewed Office Supplies Inc." not in query().vendor_names


def test_multi_line_vendors_are_swept_at_the_buying_units_only(starter):
    """AWS makes Rekognition but sells far more: ICE's contracts with it, not all of them."""
    q = query()
    assert {"Amazon Web Services, Inc.", "AWS", "Axon Enterprise, Inc."} <= set(
        q.unit_vendor_names
    )
    assert "Amazon Web Services, Inc." not in q.vendor_names
    everywhere = {name.casefold() for name in q.vendor_names}
    assert not [n for n in q.unit_vendor_names if n.casefold() in everywhere]
    assert "Amazon.com, Inc." not in q.unit_vendor_names  # the parent makes no tracked product


def test_an_alias_dated_outside_the_window_is_left_out(starter):
    # SoundThinking was "ShotSpotter, Inc." until 2023-04-04.
    assert "ShotSpotter, Inc." in query(since=dt.date(2022, 1, 1)).vendor_names
    later = query(since=dt.date(2024, 1, 1), until=dt.date(2024, 2, 1)).vendor_names
    assert "ShotSpotter, Inc." not in later and "SoundThinking, Inc." in later
    assert "ShotSpotter" in later  # a strong rule's own spelling, not a dated alias


def test_agencies_are_the_law_enforcement_buying_units(starter):
    q = query()
    assert set(q.agency_codes) == {"1524", "1544", "1549", "7003", "7012", "7013", "7014", "7015"}
    assert q.agency_codes == tuple(sorted(q.agency_codes))
    assert {
        "U.S. Immigration and Customs Enforcement",
        "U.S. Customs and Border Protection",
        "Federal Bureau of Investigation",
        "Drug Enforcement Administration",
        "Bureau of Alcohol, Tobacco, Firearms and Explosives",  # no confirmed code: by name
        "U.S. Marshals Service",
        "U.S. Secret Service",
    } <= set(q.agency_names)
    # Departments, offices inside a unit (HSI) and buyers of other things are not swept.
    assert "Department of Homeland Security" not in q.agency_names
    assert "Homeland Security Investigations" not in q.agency_names
    assert "National Aeronautics and Space Administration" not in q.agency_names
    assert "2100" not in q.agency_codes  # the Army
    Agency.objects.create(
        name="Springfield Police", level="local", agency_type="law enforcement", subtier_code="9999"
    )
    assert "9999" not in query().agency_codes


def test_grant_programmes_from_the_starter_file(starter):
    programs = query().grant_programs
    assert {"16.738", "16.710", "97.067"} <= set(programs)
    assert programs == tuple(sorted(programs))
    assert all(re.fullmatch(r"\d{2}\.\d{3}", number) for number in programs)


def test_a_malformed_programme_number_fails_loudly(monkeypatch, tmp_path):
    (tmp_path / "grant_programs.json").write_text('{"programs": [{"number": "16738"}]}')
    monkeypatch.setattr(starter_service, "STARTER_DIR", tmp_path)
    with pytest.raises(ValueError, match="16738"):
        starter_service.grant_programs()


@override_settings(
    SAM_API_KEY="sam-key",
    LDA_API_KEY="lda-key",
    MUCKROCK_USERNAME="reporter",
    MUCKROCK_PASSWORD="hunter2",
)
def test_credentials_go_to_their_own_source_only(starter):
    assert (query("sam").api_key, query("sam_awards").api_key) == ("sam-key", "sam-key")
    assert query("lda").api_key == "lda-key"
    muckrock = query("muckrock")
    assert (muckrock.username, muckrock.password, muckrock.api_key) == ("reporter", "hunter2", "")
    for source in ("usaspending", "fpds", "documentcloud", "news", "atlas"):
        q = query(source)
        assert (q.api_key, q.username, q.password) == ("", "", "")


def test_the_query_is_stable(starter):
    since, until = dt.date(2024, 1, 1), dt.date(2024, 1, 31)
    assert query(since=since, until=until) == query(since=since, until=until)


def test_query_summary_counts_and_samples_without_secrets(starter):
    with override_settings(SAM_API_KEY="secret-sam-key"):
        lines = query_summary(query("sam"), samples=2)
    text = "\n".join(lines)
    assert "secret-sam-key" not in text and "credentials: API key" in text
    keywords = next(line for line in lines if line.startswith("keywords: "))
    assert keywords.startswith(f"keywords: {len(query().keywords)} (")
    assert "more)" in keywords
    assert "NAICS codes: none" in lines


# ---------------------------------------------------------------- the planning client


def test_planning_client_records_and_redacts():
    client = PlanningClient()
    response = client.get(
        "https://api.example/search?token=abc",
        params={"q": "drone", "api_key": "k"},
        headers={"Authorization": "Token t", "Accept": "application/json"},
    )
    assert (response.status_code, response.content) == (200, b"{}")
    client.post_json("https://auth.example/token/", {"username": "u", "password": "p"})
    first, second = client.requests
    assert first.url == "https://api.example/search?token=REDACTED"
    assert first.params == {"q": "drone", "api_key": "REDACTED"}
    assert first.headers == {"Authorization": "REDACTED", "Accept": "application/json"}
    assert second.body == {"username": "u", "password": "REDACTED"}
    assert (client.requests_made, client.quota_left()) == (2, None)
    assert first.line() == "GET https://api.example/search?token=REDACTED&q=drone&api_key=REDACTED"


def test_plan_lines_say_where_a_run_would_stop():
    client = PlanningClient()
    client.get("https://accounts.example/token/")
    lines = Plan(source="muckrock", requests=client.requests, stopped="no token").lines()
    assert lines == [
        "GET https://accounts.example/token/",
        "muckrock: the run would stop here: no token",
        f"1 request ({plan_service.PAGING_NOTE})",
    ]


def test_planning_client_stops_a_source_that_never_stops(monkeypatch):
    monkeypatch.setattr(plan_service, "MAX_PLANNED_REQUESTS", 3)
    client = PlanningClient()
    with pytest.raises(PlanTooLong):
        while True:
            client.get("https://api.example/page")
    assert client.requests_made == 3


# ---------------------------------------------------------------- scrape --plan


def plan_output(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("scrape", *args, "--plan", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()


@pytest.mark.parametrize("source", ["usaspending", "documentcloud", "lda"])
def test_plan_sends_nothing_and_counts_requests(starter, source):
    with ScriptedServer() as server:
        server.add("/", Reply.json({}))
        with override_settings(
            SOURCE_URLS={source: server.url("/api/")},
            SCRAPER_TRUSTED_HOSTS=[server.host],
            LDA_API_KEY="lda-key",
        ):
            lines = plan_output(source, "--since", "2024-03-01", "--until", "2024-03-02")
        assert server.requests == []
    count = COUNT_LINE.match(lines[-1])
    assert count, lines[-1]
    assert int(count.group(1)) == len(lines) - 1 > 0
    assert all(line.startswith(("GET ", "POST ")) for line in lines[:-1])
    assert all(server.url("/api/") in line for line in lines[:-1])  # the run's endpoint
    assert "lda-key" not in "\n".join(lines)
    assert not ScrapeRun.objects.exists()


def test_plan_follows_the_dates(starter):
    lines = plan_output("documentcloud", "--since", "2021-05-01", "--until", "2021-05-31")
    assert all("2021-05-01" in line for line in lines[:-1])


def test_plan_of_a_source_without_credentials_is_one_skip_line(starter):
    with override_settings(SAM_API_KEY=""):
        assert plan_output("sam") == [
            "sam: skipped: " + scrape_plan(source="sam").skipped,
        ]
    assert "SAM_API_KEY" in scrape_plan(source="sam").skipped
    assert not ScrapeRun.objects.exists()


@override_settings(MUCKROCK_USERNAME="reporter", MUCKROCK_PASSWORD="hunter2")
def test_plan_of_muckrock_logs_in_then_searches(starter):
    plan = scrape_plan(source="muckrock")
    login, *searches = plan.requests
    assert (login.method, login.body) == ("POST", {"username": "reporter", "password": "REDACTED"})
    assert len(searches) == len(query().keywords)
    assert {s.headers["Authorization"] for s in searches} == {"REDACTED"}
    assert "hunter2" not in "\n".join(plan.lines())


def test_plan_refuses_replay(starter, tmp_path):
    with pytest.raises(CommandError, match="--plan"):
        plan_output("usaspending", "--replay", str(tmp_path))


def test_every_source_plans(starter):
    with override_settings(
        SAM_API_KEY="k", LDA_API_KEY="k", MUCKROCK_USERNAME="u", MUCKROCK_PASSWORD="p"
    ):
        for source in SOURCES:
            plan = scrape_plan(source=source, since=dt.date(2024, 3, 1), until=dt.date(2024, 3, 1))
            assert (plan.skipped, plan.stopped) == ("", ""), source
            assert plan.requests, source
