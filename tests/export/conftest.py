"""Fixtures shared by the export tests."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.export import factories as make
from tracker.models import Agency, Vendor


@pytest.fixture
def rich(starter) -> None:
    """Multi-valued, hostile and pitch-like rows over the starter agencies and vendors."""
    ice, dhs = Agency.objects.get(slug="ice"), Agency.objects.get(slug="dhs")
    amazon, aws = Vendor.objects.get(slug="amazon"), Vendor.objects.get(slug="aws")
    palantir = Vendor.objects.get(slug="palantir")
    twin_a, twin_b = make.agency("Twin"), make.agency("Twin")
    hostile = make.vendor("=cmd|' /C calc'!A0")
    minus = make.technology("-ai")
    plain = make.technology("Cameras")
    make.event(
        kind="award",
        date=dt.date(2018, 6, 1),
        agencies=[twin_b, twin_a, (twin_a, "requester")],
        vendors=[hostile, aws],
        technologies=[plain, minus],
        sources=[("sam", "Z", "https://z.example"), ("fpds", "B", "=x"), ("fpds", "A", "")],
        amount="12.50",
    )
    make.event(kind="award", date=dt.date(2018, 9, 1), agencies=[ice], vendors=[aws])
    make.event(kind="modification", date=dt.date(2018, 6, 1), agencies=[dhs], vendors=[amazon])
    make.event(kind="modification", date=None, agencies=[ice], vendors=[amazon, aws])
    make.event(kind="award", date=dt.date(2017, 12, 31), agencies=[ice], vendors=[palantir])
    make.event(
        kind="pitch",
        date=dt.date(2018, 6, 20),
        date_precision="month",
        agencies=[dhs, ice],
        vendors=[aws, (palantir, "client"), (amazon, "intermediary")],
    )
    make.event(kind="meeting", date=dt.date(2018, 3, 3), date_precision="year", agencies=[ice],
               vendors=[palantir])  # fmt: skip
    make.event(kind="lobbying", date=None, agencies=[dhs], vendors=[(aws, "client")])
    make.event(kind="solicitation", date=dt.date(2030, 1, 1), agencies=[twin_a], vendors=[hostile])
    make.event(kind="pitch", date=dt.date(2019, 1, 1), agencies=[ice])
