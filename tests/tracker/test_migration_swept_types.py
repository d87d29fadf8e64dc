"""Migration 0013: installations loaded before agency types get the swept units' types."""

import importlib

import pytest
from django.apps import apps

from tracker.models import Agency
from tracker.services.scraping import buying_units

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tracker.migrations.0013_swept_agency_types")


def test_blank_types_are_set_and_a_curators_type_is_kept(starter):
    Agency.objects.filter(slug__in=["ice", "fbi"]).update(agency_type="")
    Agency.objects.filter(slug="dea").update(agency_type="drug enforcement")
    assert "7012" not in buying_units()[0]
    migration.set_types(apps, None)
    assert Agency.objects.get(slug="ice").agency_type == "law enforcement"
    assert Agency.objects.get(slug="fbi").agency_type == "law enforcement"
    assert Agency.objects.get(slug="dea").agency_type == "drug enforcement"
    assert "7012" in buying_units()[0]
