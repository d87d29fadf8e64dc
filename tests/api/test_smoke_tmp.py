import pytest
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]

def test_smoke(client, starter):
    for url in ["/api/", "/api/events/", "/api/events/1/", "/api/events/2/", "/api/agencies/", "/api/agencies/ice/", "/api/vendors/aws/", "/api/technologies/biometrics/", "/api/sources/", "/api/schema/", "/api/docs/", "/api/nope/", "/api/events/99999999999999999999999/", "/events.csv?agency=ice", "/downloads/", "/api/events/?cursor=abc"]:
        r = client.get(url, HTTP_ACCEPT="application/json")
        body = b"".join(r.streaming_content) if r.streaming else r.content
        print(url, r.status_code, r.get("Content-Type"), body[:600])
