import pytest
@pytest.mark.django_db
def test_smoke(client, starter):
    from tracker.models import Event, Agency
    for url in ["/", "/events/", "/events/?agency=ice&technology=face-recognition", "/about/", "/agencies/", "/agencies/ice/", "/vendors/aws/", "/technologies/biometrics/", "/agencies/hsi/vendors/aws/", "/events/feed/", "/sitemap.xml"] + [e.get_absolute_url() for e in Event.objects.all()]:
        r = client.get(url)
        assert r.status_code == 200, url
