import pytest

from tracker.normalize import agency_acronym, agency_key, vendor_key


@pytest.mark.parametrize(
    "name",
    [
        "AMAZON WEB SERVICES, INC.",
        "Amazon Web Services Inc",
        "amazon web services",
        "Amazon Web Services, Incorporated",
    ],
)
def test_vendor_spellings_share_a_key(name):
    assert vendor_key(name) == "amazon web services"


def test_legal_forms_are_dropped():
    assert vendor_key("NUAXIS LLC") == vendor_key("NUAXIS LIMITED LIABILITY COMPANY") == "nuaxis"
    assert vendor_key("The GEO Group, Inc.") == "geo group"
    assert vendor_key("L.L.C.") == "l l c"  # nothing but a legal form: keep it rather than ""


def test_different_companies_keep_different_keys():
    assert vendor_key("Amazon Web Services") != vendor_key("Amazon.com")
    assert vendor_key("Palantir USG Inc") != vendor_key("Palantir Technologies Inc")


@pytest.mark.parametrize(
    "name",
    [
        "U.S. Immigration and Customs Enforcement",
        "IMMIGRATION AND CUSTOMS ENFORCEMENT",
        "Immigration & Customs Enforcement (ICE)",
    ],
)
def test_agency_spellings_share_a_key(name):
    assert agency_key(name) == "immigration and customs enforcement"


def test_inverted_department_names():
    assert agency_key("Homeland Security, Dept of (DHS)") == agency_key(
        "Department of Homeland Security"
    )
    assert agency_acronym("Homeland Security, Dept of (DHS)") == "DHS"
    assert agency_acronym("Department of Homeland Security") == ""
