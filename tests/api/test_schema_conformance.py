"""Every API response matches the OpenAPI schema the API publishes (schemathesis, in-process).

schemathesis reads /api/v1/schema/ from the WSGI app, generates requests for every documented
operation (valid values and, for the query parameters, invalid ones) and checks each answer:
no 5xx, a documented status code and content type, and a body that fits the documented schema.
Bounded and deterministic: a fixed number of examples per operation, derandomized.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web import factories as make
from tracker.models import Agency, ScrapeRun, Technology, Vendor, VendorAlias

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25  # per operation: nine operations in about 15 s per database

app = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    database="none",
)


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Like Django's test client: the test transaction's connection outlives each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def varied(starter, wsgi_keeps_the_test_connection):
    """The starter data plus the awkward cases: nulls everywhere a value may be missing."""
    ice = Agency.objects.get(slug="ice")
    aws = Vendor.objects.get(slug="aws")
    face = Technology.objects.get(slug="face-recognition")
    make.event(date=None, amount=None, agencies=[ice], technologies=[face], title="Undated")
    make.event(date=dt.date(2020, 1, 1), amount=Decimal("-12.50"), vendors=[aws], kind="award")
    VendorAlias.objects.create(vendor=aws, name="A.W.S.", valid_from=None, valid_until=None)
    ScrapeRun.objects.create(source="usaspending", status="running")
    ScrapeRun.objects.create(
        source="sam", status="succeeded", inserted=3, finished_at=dt.datetime.now(tz=dt.UTC)
    )


@pytest.mark.django_db
@override_settings(SPYGLASS_API_RATE="100000/min")
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_responses_match_the_schema(case, varied):
    case.call_and_validate(checks=CHECKS)
