"""Static files in production: collectstatic writes content-hashed, pre-compressed copies, pages
link the hashed names, and WhiteNoise serves them compressed and cacheable for good."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
PLAIN_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
HASHED = re.compile(r"/static/(spyglass\.[0-9a-f]{12}\.(?:css|js))\b")


@pytest.fixture
def collected(tmp_path, settings) -> Path:
    """STATIC_ROOT filled by collectstatic with the production storage."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


def test_collectstatic_writes_hashed_and_compressed_copies(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    for name in ("spyglass.css", "spyglass.js"):
        hashed = manifest[name]
        assert re.fullmatch(r"spyglass\.[0-9a-f]{12}\.(css|js)", hashed)
        assert (collected / hashed).read_bytes() == (
            ROOT / "tracker" / "static" / name
        ).read_bytes()
        assert (collected / f"{hashed}.gz").is_file()
        if importlib.util.find_spec("brotli"):  # WhiteNoise writes .br only with brotli installed
            assert (collected / f"{hashed}.br").is_file()
    assert manifest["admin/css/base.css"] != "admin/css/base.css"  # the admin's too


def test_pages_link_the_hashed_names_and_they_are_served_compressed(collected, client, starter):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    page = client.get("/").content.decode()
    assert sorted(HASHED.findall(page)) == sorted(
        [manifest["spyglass.css"], manifest["spyglass.js"]]
    )
    assert 'href="/static/spyglass.css"' not in page

    response = client.get(f"/static/{manifest['spyglass.css']}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]  # the name changes when the content does
    response.close()


def storage_backend(**env: str) -> str:
    """STORAGES["staticfiles"] as the settings choose it in a fresh process with ``env``."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "SPYGLASS_PRODUCTION"}
    }
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**keep, "DJANGO_SETTINGS_MODULE": "tracker.settings", **env},
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def test_only_production_links_hashed_names():
    secret = {"SECRET_KEY": "test-only-a-long-random-looking-secret-key-value-1234567890"}
    assert storage_backend(SPYGLASS_PRODUCTION="1", **secret) == MANIFEST_STORAGE
    # Development and the tests serve the plain files: no collectstatic needed.
    assert storage_backend() == PLAIN_STORAGE
    assert storage_backend(SPYGLASS_PRODUCTION="1", DEBUG="1", **secret) == PLAIN_STORAGE
