"""The scrapers package must stay importable without Django."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import scrapers
names = [m.name for m in pkgutil.walk_packages(scrapers.__path__, "scrapers.")]
for name in names:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print("\\n".join(names))
if leaked:
    sys.exit("django imported: " + ", ".join(leaked[:5]))
"""


def test_every_scrapers_module_imports_without_django():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = result.stdout.split()
    assert "scrapers.base" in imported
    assert "scrapers.http" in imported
