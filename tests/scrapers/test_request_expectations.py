"""The exact requests a default run of each source sends, against reviewed expectation files.

For every source in ``SOURCES``, with the starter data loaded, the dates ``SINCE``..``UNTIL``
and dummy credentials, the planning client of ``tracker.services.plan`` records what the
source's ``fetch`` would send for the default query (``source_query``): method, URL, query
parameters, JSON body and headers, secrets redacted. Every answer is empty, so a paged series
shows its first request only. The test compares that list with
``tests/fixtures/requests/<source>.json`` and fails with a diff.

A change to a source module, to ``source_query`` or to the starter data that changes what a
run asks for shows up here. When the change is intended, regenerate the files and review
their diff before committing them:

    SPYGLASS_UPDATE_REQUEST_EXPECTATIONS=1 .venv/bin/pytest -q \
        tests/scrapers/test_request_expectations.py
    git diff tests/fixtures/requests/
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from tracker.services.plan import scrape_plan
from tracker.services.scraping import SOURCES

pytestmark = pytest.mark.django_db
EXPECTATIONS = Path(__file__).resolve().parents[1] / "fixtures" / "requests"
UPDATE = os.environ.get("SPYGLASS_UPDATE_REQUEST_EXPECTATIONS") == "1"
SINCE = dt.date(2024, 3, 1)
UNTIL = dt.date(2024, 3, 1)
SECRETS = {"SAM_API_KEY": "dummy-sam-key", "LDA_API_KEY": "dummy-lda-key"}
ACCOUNT = {"MUCKROCK_USERNAME": "dummy-muckrock-user", "MUCKROCK_PASSWORD": "dummy-password"}
MAX_DIFF_LINES = 120


def planned(source: str) -> dict[str, Any]:
    """What a default run of ``source`` sends over the fixed window, as the file holds it."""
    with override_settings(SOURCE_URLS={}, **SECRETS, **ACCOUNT):
        plan = scrape_plan(source=source, since=SINCE, until=UNTIL)
    return {
        "source": source,
        "since": SINCE.isoformat(),
        "until": UNTIL.isoformat(),
        "skipped": plan.skipped,
        "stopped": plan.stopped,
        "count": len(plan.requests),
        "requests": plan.as_data(),
    }


def as_text(data: dict[str, Any]) -> str:
    """The file's form: sorted keys, indented, one value a line where possible."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


@pytest.mark.parametrize("source", SOURCES)
def test_default_run_requests_match_the_reviewed_file(starter, source):
    actual = as_text(planned(source))
    for secret in (*SECRETS.values(), ACCOUNT["MUCKROCK_PASSWORD"]):
        assert secret not in actual, f"{source}: a secret reached the recorded requests"
    path = EXPECTATIONS / f"{source}.json"
    if UPDATE:
        EXPECTATIONS.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, "utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no expectation file {path.relative_to(EXPECTATIONS.parents[2])}: run with "
            "SPYGLASS_UPDATE_REQUEST_EXPECTATIONS=1 and review the file it writes"
        )
    expected = path.read_text("utf-8")
    if actual == expected:
        return
    diff = list(
        difflib.unified_diff(
            expected.splitlines(),
            actual.splitlines(),
            fromfile=f"expected ({path.name})",
            tofile="planned now",
            lineterm="",
        )
    )
    shown = "\n".join(diff[:MAX_DIFF_LINES])
    more = f"\n… {len(diff) - MAX_DIFF_LINES} more diff lines" if len(diff) > MAX_DIFF_LINES else ""
    counts = f"{json.loads(expected)['count']} requests expected, {json.loads(actual)['count']} now"
    pytest.fail(
        f"{source}: the requests of a default run changed ({counts}); if intended, regenerate "
        f"with SPYGLASS_UPDATE_REQUEST_EXPECTATIONS=1 and review the diff\n{shown}{more}",
        pytrace=False,
    )
