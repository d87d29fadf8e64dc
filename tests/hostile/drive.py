"""Drive hostile pages through ``scrape_run`` (the real replay path) and check what was stored."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.hostile import report
from tracker.models import Agency, Event, ScrapeRun, SourceRecord, Vendor
from tracker.services.scraping import scrape_run

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
RUNNABLE = re.compile(r"<\s*script|\bon\w+\s*=|javascript\s*:|vbscript\s*:", re.IGNORECASE)


def replay(
    source: str,
    folder: Path,
    bodies: Mapping[str, bytes],
    *,
    good: Iterable[Path] = (),
    suffix: str = ".json",
    web_urls: bool = False,
) -> ScrapeRun:
    """Replay the hostile ``bodies`` (in order), then the ``good`` files, as one run.

    With ``web_urls`` each body is replayed as if fetched from ``https://<source>.example.org/``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for number, (name, body) in enumerate(bodies.items()):
        target = folder / f"{number:03d}-{name}{suffix}"
        target.write_bytes(body)
        if web_urls:
            url = f"https://{source}.example.org/{target.name}"
            target.with_name(target.name + ".meta.json").write_text(json.dumps({"url": url}))
    for path in good:
        target = folder / f"zzz-{path.name}"
        shutil.copyfile(path, target)
        sidecar = path.with_name(path.name + ".meta.json")
        if sidecar.exists():
            shutil.copyfile(sidecar, target.with_name(target.name + ".meta.json"))
    report.count("inputs", len(bodies))
    return scrape_run(source=source, replay=[folder])


def assert_rejected_with_reason(run: ScrapeRun, names: Iterable[str]) -> None:
    """Each named page (or a record in it) was reported in the run's errors with a reason."""
    joined = "\n".join(run.errors)
    missing = [name for name in names if name not in joined]
    assert not missing, f"no logged reason for {missing}; errors: {run.errors[:5]}"
    assert "crashed" not in run.message


def stored_text_problems() -> list[str]:
    """Control characters anywhere in stored text, and non-http(s) source URLs."""
    problems = []
    for event in Event.objects.all():
        for name in ("title", "summary", "body_text"):
            if _CONTROL.search(getattr(event, name)):
                problems.append(f"event {event.pk} {name} has control characters")
    for record in SourceRecord.objects.all():
        if record.url and not record.url.lower().startswith(("http://", "https://")):
            problems.append(f"source record {record.pk} url {record.url[:60]!r}")
        if "\x00" in str(record.raw) or "\x00" in record.external_id:
            problems.append(f"source record {record.pk} keeps a NUL")
    for model in (Agency, Vendor):
        for name in model.objects.values_list("name", flat=True):
            if _CONTROL.search(name):
                problems.append(f"{model.__name__} {name[:40]!r} has control characters")
    return problems
