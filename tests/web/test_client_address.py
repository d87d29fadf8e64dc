"""One client address for every per-client limit: API throttle, admin login, alerts subscribe.

A client cannot change its budget by writing X-Forwarded-For: without ``BEHIND_PROXY`` the header
is ignored, and behind N proxies only the N-th entry from the right (written by our proxy) counts.
"""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from rest_framework.request import Request

from tracker.api.throttling import ApiRateThrottle
from tracker.api.views import AgencyViewSet
from tracker.security import ProxiedClientAddress, client_address

PROXY = "10.0.0.2"  # what REMOTE_ADDR is when every request comes through our proxy

# The real agency list view with the throttle from tracker.api.throttling (see the API tests).
urlpatterns = [
    path(
        "api/agencies/",
        AgencyViewSet.as_view({"get": "list"}, throttle_classes=(ApiRateThrottle,)),
    )
]


def request(remote: str = "203.0.113.5", forwarded: str | None = None) -> HttpRequest:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


# The function


@pytest.mark.parametrize("hops", [0, False])
def test_without_a_proxy_the_header_is_ignored(settings, hops):
    settings.BEHIND_PROXY = hops
    assert client_address(request("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


@pytest.mark.parametrize("hops", [1, True])
def test_behind_one_proxy_the_last_entry_is_the_client(settings, hops):
    settings.BEHIND_PROXY = hops
    assert client_address(request(PROXY, "198.51.100.1, 203.0.113.5")) == "203.0.113.5"
    assert client_address(request(PROXY, "203.0.113.5")) == "203.0.113.5"
    assert client_address(request(PROXY, " 1.2.3.4 ,  203.0.113.5 ")) == "203.0.113.5"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.BEHIND_PROXY = 2  # CDN, then nginx: "<client's own>, <client>, <CDN>"
    got = client_address(request(PROXY, "198.51.100.1, 203.0.113.5, 192.0.2.80"))
    assert got == "203.0.113.5"
    assert client_address(request(PROXY, "203.0.113.5, 192.0.2.80")) == "203.0.113.5"


def test_too_few_entries_fall_back_to_the_nearest_proxy_not_the_leftmost(settings):
    settings.BEHIND_PROXY = 2
    assert client_address(request(PROXY, "198.51.100.1")) == PROXY
    assert client_address(request(PROXY)) == PROXY
    settings.BEHIND_PROXY = 1
    assert client_address(request(PROXY)) == PROXY
    assert client_address(request(PROXY, "")) == PROXY
    assert client_address(request(PROXY, "198.51.100.1, ")) == PROXY


def test_middleware_writes_the_same_address_and_a_second_call_agrees(settings):
    settings.BEHIND_PROXY = 2
    seen: list[str] = []

    def view(req: HttpRequest) -> HttpResponse:
        seen.extend([req.META["REMOTE_ADDR"], client_address(req)])
        return HttpResponse()

    ProxiedClientAddress(view)(request(PROXY, "198.51.100.1, 203.0.113.5, 192.0.2.80"))
    assert seen == ["203.0.113.5", "203.0.113.5"]


def test_middleware_leaves_remote_addr_alone_without_a_proxy(settings):
    settings.BEHIND_PROXY = 0
    seen: list[str] = []
    ProxiedClientAddress(lambda req: seen.append(req.META["REMOTE_ADDR"]) or HttpResponse())(
        request("203.0.113.5", "198.51.100.1")
    )
    assert seen == ["203.0.113.5"]


# The API throttle


def api_statuses(forwarded: list[str], remote: str = PROXY) -> list[int]:
    client = Client()
    return [
        client.get("/api/agencies/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff).status_code
        for xff in forwarded
    ]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@override_settings(SPYGLASS_API_RATE="3/min", BEHIND_PROXY=0)
def test_api_rotating_the_header_does_not_buy_requests_without_a_proxy():
    rotated = [f"198.51.100.{n}" for n in range(6)]
    assert api_statuses(rotated, remote="203.0.113.5") == [200, 200, 200, 429, 429, 429]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@override_settings(SPYGLASS_API_RATE="3/min", BEHIND_PROXY=1)
def test_api_behind_the_proxy_spoofed_left_entries_do_not_matter():
    spoofed = [f"198.51.100.{n}, 203.0.113.5" for n in range(6)]
    assert api_statuses(spoofed) == [200, 200, 200, 429, 429, 429]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@override_settings(SPYGLASS_API_RATE="3/min", BEHIND_PROXY=1)
def test_api_behind_the_proxy_two_clients_get_separate_budgets():
    assert api_statuses(["203.0.113.5"] * 4) == [200, 200, 200, 429]
    assert api_statuses(["203.0.113.6"] * 3) == [200, 200, 200]


def test_the_throttle_asks_client_address(rf, settings):
    settings.BEHIND_PROXY = 1
    drf_request = Request(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8"))
    assert ApiRateThrottle().get_ident(drf_request) == "5.6.7.8"


# The admin login and the alerts subscribe form


@pytest.mark.django_db
@override_settings(BEHIND_PROXY=2, ADMIN_LOGIN_MAX_FAILURES=3)
def test_admin_login_limit_uses_client_address():
    client = Client()

    def attempt(n: int, xff: str) -> int:
        form = {"username": f"user{n}", "password": "guess"}
        return client.post("/admin/login/", form, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff)

    spoofed = [attempt(n, f"198.51.100.{n}, 203.0.113.5, 192.0.2.80") for n in range(4)]
    assert [r.status_code for r in spoofed] == [200, 200, 200, 429]
    assert attempt(9, "203.0.113.6, 192.0.2.80").status_code == 200


@pytest.mark.django_db
@override_settings(BEHIND_PROXY=1, ALERTS_RATE_LIMIT_CLIENT=(2, 3600))
def test_subscribe_form_limit_uses_client_address():
    client = Client()

    def attempt(xff: str) -> int:
        # An invalid email: the attempt still counts against the client, and no mail is sent.
        form = {"email": "not-an-address", "frequency": "daily"}
        response = client.post(
            "/alerts/subscribe/?q=x", form, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff
        )
        return response.status_code

    spoofed = [attempt(f"198.51.100.{n}, 203.0.113.5") for n in range(3)]
    assert spoofed == [200, 200, 429]
    assert attempt("203.0.113.6") == 200
