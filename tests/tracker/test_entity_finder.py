"""EntityFinder on vendor names as contract databases spell them: case, acronyms, generic names."""

import pytest

from tracker.models import Agency, Vendor, VendorAlias
from tracker.services.tagging import EntityFinder

pytestmark = pytest.mark.django_db


def vendor(name: str, *aliases: str) -> Vendor:
    created = Vendor.objects.create(name=name)
    for alias in aliases:
        VendorAlias.objects.create(vendor=created, name=alias)
    return created


def vendors_in(text: str) -> set[int]:
    return EntityFinder().find(text).vendors


def test_an_all_caps_contract_name_matches_the_name_as_prose_writes_it():
    paragon = vendor("PARAGON SOLUTIONS INC")
    cellebrite = vendor("CELLEBRITE INC")
    text = "Paragon Solutions' spyware and Cellebrite's phone extraction kits were bought."
    assert vendors_in(text) == {paragon.pk, cellebrite.pk}
    assert vendors_in("PARAGON SOLUTIONS and CELLEBRITE") == {paragon.pk, cellebrite.pk}


def test_an_alias_matches_in_any_case():
    penlink = vendor("PEN-LINK, LTD.", "Penlink")
    assert vendors_in("ICE renewed its Penlink licences.") == {penlink.pk}
    assert vendors_in("a PENLINK subscription") == {penlink.pk}


def test_a_name_starting_with_a_lower_case_word_is_prose_not_a_company():
    ring = vendor("RING LLC", "Ring")
    flock = vendor("Flock Group Inc.", "Flock")
    assert vendors_in("Ring shared doorbell video; Flock cameras read plates.") == {
        ring.pk,
        flock.pk,
    }
    assert vendors_in("a ring of protesters; birds flock to the field") == set()


def test_a_short_all_caps_name_is_an_acronym_matched_as_written(starter):
    aws = Vendor.objects.get(slug="aws")
    assert aws.pk in vendors_in("ICE met AWS sales staff.")
    assert aws.pk not in vendors_in("the aws command line tool")
    relx = vendor("RELX")
    assert relx.pk not in vendors_in("Relax, said the spokesperson. Relx")


def test_ice_in_prose_is_not_the_agency(starter):
    ice = Agency.objects.get(slug="ice")
    assert EntityFinder().find("Agents from ICE arrived.").agencies >= {ice.pk}
    assert ice.pk not in EntityFinder().find("The roads were covered in ice.").agencies


@pytest.mark.parametrize(
    "name", ["SECURITY", "Solutions", "SOLUTIONS INC", "SECURITY SOLUTIONS", "GLOBAL SERVICES LLC"]
)
def test_a_generic_vendor_name_does_not_match_ordinary_prose(name):
    vendor(name)
    text = "Security Solutions for schools: Global Services and Security were discussed."
    assert vendors_in(text) == set()


def test_a_generic_or_very_short_name_is_still_found_by_its_full_name():
    security = vendor("SECURITY, INC.")
    bi = vendor("BI Incorporated", "BI Inc")
    assert vendors_in("A contract with Security, Inc. for guards") == {security.pk}
    assert vendors_in("ankle monitors from BI Incorporated") == {bi.pk}
    assert vendors_in("BI dashboards and the BI team") == set()


def test_a_curated_mixed_case_name_of_generic_words_matches_as_written():
    general = vendor("GENERAL DYNAMICS CORP", "General Dynamics")
    assert vendors_in("General Dynamics won the award.") == {general.pk}
    assert vendors_in("general dynamics of the market") == set()
