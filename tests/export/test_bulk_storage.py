"""Bulk files live in STORAGES["bulk"]: written by one host, served by any other reading it."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, InMemoryStorage, storages

from tests.export import factories as make
from tracker.exports import bulk as exports_bulk
from tracker.exports.bulk import BULK_NAMES, bulk_exports_write, bulk_files, bulk_storage
from tracker.models import Event

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
FOLDER = "django.core.files.storage.FileSystemStorage"


class RemoteStorage(InMemoryStorage):
    """A storage with its own public URLs, as S3 through django-storages has."""

    def url(self, name: str) -> str:
        return f"https://bulk.example/{name}"


@pytest.fixture
def bulk_at(settings):
    """Point this process's STORAGES["bulk"] at a backend (the web host's configuration)."""

    def configure(backend: str, **options) -> None:
        settings.STORAGES = {**settings.STORAGES, "bulk": {"BACKEND": backend, "OPTIONS": options}}

    return configure


def body(response) -> bytes:
    return gzip.decompress(b"".join(response.streaming_content))


def test_files_written_by_one_host_are_served_by_another(client, starter, bulk_at, tmp_path):
    shared = tmp_path / "nfs" / "spyglass-bulk"  # the folder every host mounts
    make.event(title="from the worker host")
    worker_host = FileSystemStorage(location=shared)
    written = bulk_exports_write(worker_host)
    assert [file.name for file in written] == list(BULK_NAMES)
    assert sorted(path.name for path in shared.iterdir()) == sorted(BULK_NAMES)  # no temp files

    bulk_at(FOLDER, location=shared)  # the web host: its own storage, the same folder
    assert bulk_storage() is not worker_host
    page = client.get("/downloads/").content.decode()
    for name in BULK_NAMES:
        assert f'href="/downloads/{name}"' in page
    response = client.get("/downloads/spyglass-events.jsonl.gz")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="spyglass-events.jsonl.gz"'
    lines = body(response).decode().splitlines()
    assert len(lines) == Event.objects.count() and "from the worker host" in "".join(lines)


def test_a_file_not_written_yet_is_a_helpful_404(client, starter, bulk_at, tmp_path):
    bulk_at(FOLDER, location=tmp_path / "not-mounted-yet")  # not even the folder exists
    response = client.get("/downloads/spyglass-events.csv.gz")
    assert response.status_code == 404
    text = response.content.decode()
    assert "spyglass-events.csv.gz" in text and "has not been generated yet" in text
    assert 'href="/downloads/"' in text and "export_bulk" in text
    assert client.head("/downloads/spyglass-events.csv.gz").status_code == 404
    assert client.get("/downloads/").status_code == 200
    assert client.get("/downloads/../settings.py").status_code == 404


def test_rewriting_replaces_files_atomically_in_a_folder(starter, bulk_at, tmp_path, monkeypatch):
    bulk_at(FOLDER, location=tmp_path)
    bulk_exports_write()
    before = (tmp_path / "spyglass-events.csv.gz").read_bytes()
    make.event(title="new since the last run")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports_bulk, "format_chunk", broken)
    with pytest.raises(RuntimeError):
        bulk_exports_write()
    assert (tmp_path / "spyglass-events.csv.gz").read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(BULK_NAMES)


def test_other_storages_get_complete_files_under_their_final_names(client, starter, bulk_at):
    bulk_at("django.core.files.storage.InMemoryStorage")  # overwrites nothing: picks new names
    bulk_exports_write()
    make.event(title="second run")
    bulk_exports_write()
    storage = storages["bulk"]
    assert sorted(storage.listdir("")[1]) == sorted(BULK_NAMES)
    assert [file.name for file in bulk_files()] == list(BULK_NAMES)
    response = client.get("/downloads/spyglass-events.jsonl.gz")  # no URL of its own: streamed
    assert response.status_code == 200
    assert "second run" in body(response).decode()


def test_a_storage_with_its_own_urls_is_redirected_to(client, starter, bulk_at):
    bulk_at(f"{__name__}.RemoteStorage")
    assert client.get("/downloads/spyglass-events.csv.gz").status_code == 404
    bulk_exports_write()
    response = client.get("/downloads/spyglass-events.csv.gz")
    assert response.status_code == 302
    assert response["Location"] == "https://bulk.example/spyglass-events.csv.gz"


def test_the_bulk_folder_is_configured_by_environment():
    """Each host reads SPYGLASS_BULK_DIR (default <SPYGLASS_VAR_DIR>/bulk) into STORAGES."""
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.BULK_EXPORTS_DIR, settings.STORAGES['bulk']['OPTIONS']['location'])"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "tracker.settings"}
    env.pop("SPYGLASS_VAR_DIR", None)

    def configured(**extra: str) -> list[str]:
        return subprocess.run(
            [sys.executable, "-c", show], cwd=ROOT, env=env | extra, check=True,
            capture_output=True, text=True,
        ).stdout.split()  # fmt: skip

    assert configured(SPYGLASS_BULK_DIR="/mnt/spyglass-bulk") == ["/mnt/spyglass-bulk"] * 2
    assert configured() == [str(ROOT / "var" / "bulk")] * 2
