"""A wheel of the project is a whole site: built, installed into a fresh virtualenv away from the
checkout, it migrates, loads the starter data, collects its static files and serves pages.

The fresh virtualenv gets the project only from the wheel. Its dependencies come from this
virtualenv's site-packages through a folder of links (so nothing is downloaded), minus this
checkout's own editable install; the checkout is on no import path and is not the working
directory, so a template, static file, migration or starter file missing from the wheel fails
the test.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "var", "staticfiles", "build", "*.egg-info", "__pycache__", "tests",
    "test-artifacts", ".pytest_cache", ".ruff_cache", "node_modules", "*.sqlite3*",
)  # fmt: skip
# This virtualenv's own install of the checkout (editable), which must not reach the new one.
OWN_INSTALL = re.compile(r"^(__editable__.*|spyglass-.*\.dist-info|.*\.pth|tracker|scrapers)$")

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the installed site runs on its own SQLite file: once, in the SQLite pass, is enough",
)


def run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 120) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path: Path) -> Path:
    """The project's wheel, built from a copy of the working tree (the checkout stays clean)."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    wheelhouse = tmp_path / "wheelhouse"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheelhouse)]
    if Version(importlib.metadata.version("setuptools")) >= Version("77"):
        command += ["--no-build-isolation", "--no-index"]  # offline, with this setuptools
    # else pip fetches the setuptools pyproject.toml's [build-system] asks for.
    run([*command, str(source)], cwd=tmp_path, env=dict(os.environ), timeout=300)
    (wheel,) = wheelhouse.glob("spyglass-*.whl")
    return wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A virtualenv holding the wheel, and this one's dependencies without the checkout."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--no-compile", str(wheel)],
        cwd=tmp_path, env=dict(os.environ),
    )  # fmt: skip
    dependencies = tmp_path / "dependencies"
    dependencies.mkdir()
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not OWN_INSTALL.match(entry.name):
            (dependencies / entry.name).symlink_to(entry)
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        cwd=tmp_path, env={"PATH": os.environ["PATH"]},
    ).strip()  # fmt: skip
    Path(purelib, "dependencies-from-the-test.pth").write_text(f"{dependencies}\n")
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # a 4xx/5xx answer: the caller checks the status
        return error.code, dict(error.headers), error.read()


def wait_for(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[0]
        try:
            fetch(url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} within {seconds} s")


def test_the_wheel_installs_a_working_site_outside_the_checkout(tmp_path):
    wheel = build_wheel(tmp_path)
    venv = fresh_venv(tmp_path, wheel)
    python, spyglass = venv / "bin" / "python", venv / "bin" / "spyglass"
    site = tmp_path / "site"  # the working directory, as WorkingDirectory= in the systemd units
    site.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "SPYGLASS_PRODUCTION": "1",
        "SECRET_KEY": "test-only-a-long-random-looking-secret-key-value-1234567890",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'spyglass.sqlite3'}",
    }  # and no SPYGLASS_VAR_DIR, STATIC_ROOT: they default to the working directory

    where = run(
        [str(python), "-c",
         "import sys, tracker, django.conf as c; print(tracker.__file__); print(sys.path); "
         "print(c.settings.SITE_TEMPLATES_DIR, c.settings.VAR_DIR, c.settings.STATIC_ROOT)"],
        cwd=site, env=env,
    )  # fmt: skip
    assert str(ROOT) not in where, where  # not on sys.path, and nothing loaded from it
    assert f"{venv}/lib/" in where.splitlines()[0]
    assert f"site_templates {site / 'var'} {site / 'staticfiles'}" in where

    run([str(spyglass), "migrate", "--noinput"], cwd=site, env=env)
    loaded = run([str(spyglass), "load_starter_data"], cwd=site, env=env)
    assert "starter data loaded" in loaded
    run([str(spyglass), "collectstatic", "--noinput"], cwd=site, env=env)
    assert (site / "staticfiles" / "staticfiles.json").is_file()
    run([str(spyglass), "check", "--deploy"], cwd=site, env=env)

    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "gunicorn", "tracker.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1"],
        cwd=site, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/", server)
        status, _, body = fetch(f"{base}/")
        page = body.decode()
        assert status == 200, page
        assert "Spyglass" in page
        stylesheet = re.search(r'href="(/static/spyglass\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, "the page links the content-hashed stylesheet"
        status, headers, _ = fetch(base + stylesheet.group(1), **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        for path in ("/events/", "/agencies/", "/about/", "/healthz"):
            assert fetch(base + path)[0] == 200, path
    except AssertionError:
        server.terminate()
        print(server.communicate(timeout=30)[0])  # the server's log, shown with the failure
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
