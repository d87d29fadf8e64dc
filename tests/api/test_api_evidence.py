"""Technology tags in the API carry how they were made and their evidence, as the schema says."""

from __future__ import annotations

import jsonschema
import pytest

from tests.export import factories as make
from tracker.models import EventTechnology

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]

EVIDENCE = [
    {
        "kind": "vendor",
        "field": "vendor",
        "match": "CLEARVIEW AI, INC.",
        "strength": "strong",
        "rule": 7,
        "product": None,
        "why": "vendor Clearview AI is a face recognition vendor",
    },
    {
        "kind": "psc",
        "field": "psc",
        "match": "7030",
        "strength": "supporting",
        "rule": None,
        "product": None,
        "why": "PSC 7030 (software licences)",
    },
]


@pytest.fixture
def event():
    made = make.event(title="Licences", agencies=[make.agency("Border Office")])
    EventTechnology.objects.create(
        event=made, technology=make.technology("Face recognition"), evidence=EVIDENCE
    )
    EventTechnology.objects.create(
        event=made, technology=make.technology("Drones"), tagged_by="curator"
    )
    return made


def _validator(client, component: str) -> jsonschema.Draft4Validator:
    schema = client.get("/api/v1/schema/?format=json").json()
    return jsonschema.Draft4Validator(
        {"$ref": f"#/components/schemas/{component}", "components": schema["components"]}
    )


def test_list_and_detail_carry_tagged_by_and_evidence(client, event):
    listed = client.get("/api/v1/events/", HTTP_ACCEPT="application/json").json()["results"]
    detail = client.get(f"/api/v1/events/{event.pk}/", HTTP_ACCEPT="application/json").json()
    in_list = next(e for e in listed if e["id"] == event.pk)["technologies"]
    for technologies in (in_list, detail["technologies"]):
        drones, face = technologies
        assert drones["tagged_by"] == drones["role"] == "curator" and drones["evidence"] == []
        assert face["tagged_by"] == "rule"
        assert face["evidence"] == [
            {key: item[key] for key in ("kind", "field", "match", "strength", "why")}
            for item in EVIDENCE
        ]


def test_technology_links_match_their_schema(client, event):
    validator = _validator(client, "TechnologyLink")
    properties = _validator(client, "Evidence").schema["components"]["schemas"]
    detail = client.get(f"/api/v1/events/{event.pk}/", HTTP_ACCEPT="application/json").json()
    for link in detail["technologies"]:
        validator.validate(link)
        assert set(link) == set(properties["TechnologyLink"]["properties"])
        for item in link["evidence"]:
            assert set(item) == set(properties["Evidence"]["properties"])
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**detail["technologies"][1], "evidence": [{"strength": "huge"}]})
