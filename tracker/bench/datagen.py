"""Deterministic, realistically skewed benchmark data shaped like the real sources.

Agencies and vendors are drawn with a Zipf-like skew (a few agencies and vendors account for
most actions, as in real federal spending); about a third of descriptions name a surveillance
technology; amounts are log-normal; dates span 2008-2025.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

import orjson

DEPARTMENTS = [
    ("070", "7000", "Department of Homeland Security"),
    ("015", "1500", "Department of Justice"),
    ("097", "9700", "Department of Defense"),
    ("019", "1900", "Department of State"),
    ("020", "2000", "Department of the Treasury"),
    ("012", "1200", "Department of Agriculture"),
    ("075", "7500", "Department of Health and Human Services"),
    ("069", "6900", "Department of Transportation"),
    ("014", "1400", "Department of the Interior"),
    ("089", "8900", "Department of Energy"),
]
TECH_PHRASES = [
    "FACE RECOGNITION SOFTWARE", "FACIAL RECOGNITION SERVICES", "LICENSE PLATE READER SYSTEMS",
    "CELL SITE SIMULATOR MAINTENANCE", "BODY WORN CAMERA PROGRAM", "MOBILE DEVICE FORENSICS TOOLS",
    "SOCIAL MEDIA MONITORING SUBSCRIPTION", "GUNSHOT DETECTION SENSORS", "SMALL UNMANNED AIRCRAFT SYSTEM",
    "VIDEO ANALYTICS PLATFORM", "ELECTRONIC MONITORING OF PARTICIPANTS", "IRIS RECOGNITION DEVICES",
    "AUTONOMOUS SURVEILLANCE TOWER", "LOCATION DATA SUBSCRIPTION", "INVESTIGATIVE CASE MANAGEMENT",
]
PLAIN_PHRASES = [
    "OFFICE SUPPLIES", "JANITORIAL SERVICES", "IT HELP DESK SUPPORT", "VEHICLE MAINTENANCE",
    "TRAINING COURSE", "FURNITURE", "CLOUD HOSTING", "SOFTWARE LICENSES", "CONSTRUCTION",
    "PROFESSIONAL SERVICES", "TELECOMMUNICATIONS", "MEDICAL SUPPLIES", "SECURITY GUARD SERVICES",
]
# The product and service codes drawn, with their names in the PSC manual.
PSC_NAMES = {
    "D310": "IT AND TELECOM- CYBER SECURITY AND DATA BACKUP",
    "R425": "SUPPORT- PROFESSIONAL: ENGINEERING/TECHNICAL",
    "5840": "RADAR EQUIPMENT, EXCEPT AIRBORNE",
    "6350": "MISCELLANEOUS ALARM, SIGNAL, AND SECURITY DETECTION SYSTEMS",
    "7030": "INFORMATION TECHNOLOGY SOFTWARE",
    "1550": "UNMANNED AIRCRAFT",
    "S206": "HOUSEKEEPING- GUARD",
}
PSC_CODES = list(PSC_NAMES)
WORDS = ["ALPHA", "NORTH", "UNITED", "GLOBAL", "VECTOR", "SUMMIT", "PIONEER", "ATLAS", "BLUE",
         "RIVER", "APEX", "CIVIC", "DELTA", "FRONTIER", "HARBOR", "KEYSTONE", "LIBERTY", "MERIDIAN",
         "NOVA", "ORBIT", "PRAIRIE", "QUANTUM", "RIDGE", "SIERRA", "TITAN", "VANGUARD", "ZENITH"]
KINDS = ["SOLUTIONS", "TECHNOLOGIES", "SYSTEMS", "ANALYTICS", "SECURITY", "GROUP", "SERVICES"]
FORMS = ["LLC", "INC.", "CORPORATION", "L.L.C.", "INC", "CORP"]


@dataclass(frozen=True)
class Subtier:
    toptier: str
    department: str
    code: str
    name: str


@dataclass(frozen=True)
class Company:
    name: str
    uei: str
    parent_name: str
    parent_uei: str


class Dataset:
    """The shared world the generated pages draw from."""

    def __init__(self, *, vendors: int = 50_000, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.subtiers = [
            Subtier(top, dept_name, f"{fpds[:2]}{n:02d}", f"{dept_name} component {n}")
            for top, fpds, dept_name in DEPARTMENTS
            for n in range(1, 11)
        ]
        self.subtiers[0] = Subtier("070", "Department of Homeland Security", "7012",
                                   "U.S. Immigration and Customs Enforcement")
        self.subtiers[1] = Subtier("070", "Department of Homeland Security", "7014",
                                   "U.S. Customs and Border Protection")
        self.companies = self._companies(vendors)
        self._agency_weights = self._zipf(len(self.subtiers), 1.1)
        self._vendor_weights = self._zipf(len(self.companies), 1.05)

    def _companies(self, count: int) -> list[Company]:
        names: set[str] = set()
        companies: list[Company] = []
        parents: list[Company] = []
        for n in itertools.count():
            if len(companies) >= count:
                break
            r = self.random
            name = f"{r.choice(WORDS)} {r.choice(WORDS)} {r.choice(KINDS)} {n}"
            if name in names:
                continue
            names.add(name)
            uei = f"{n:012d}"[-12:].replace("0", "X", 1)
            parent = r.choice(parents) if parents and r.random() < 0.1 else None
            company = Company(f"{name}, {r.choice(FORMS)}", uei, parent.name if parent else "",
                              parent.uei if parent else "")
            companies.append(company)
            if len(parents) < count // 20 and r.random() < 0.05:
                parents.append(company)
        return companies

    @staticmethod
    def _zipf(n: int, s: float) -> list[float]:
        weights = [1 / (rank**s) for rank in range(1, n + 1)]
        return list(itertools.accumulate(weights))

    def _pick(self, items: list, cumulative: list[float]):
        x = self.random.random() * cumulative[-1]
        return items[bisect.bisect_left(cumulative, x)]

    def action(self, n: int) -> dict:
        """One contract action's facts."""
        r = self.random
        tech = r.random() < 0.33
        phrase = r.choice(TECH_PHRASES if tech else PLAIN_PHRASES)
        day = dt.date(2008, 1, 1) + dt.timedelta(days=r.randrange(18 * 365))
        return {
            "n": n,
            "piid": f"{r.choice(['70', '15', 'W9', 'N0', 'GS'])}{r.randrange(10**10):010d}",
            "agency": self._pick(self.subtiers, self._agency_weights),
            "company": self._pick(self.companies, self._vendor_weights),
            "description": f"{phrase} FOR {r.choice(WORDS)} PROGRAM, TASK {n % 97}",
            "amount": round(r.lognormvariate(11, 2), 2),
            "date": day,
            "psc": r.choice(PSC_CODES),
            "naics": r.choice(["541511", "541512", "334511", "561612", "518210"]),
        }


def usaspending_pages(data: Dataset, events: int, page_size: int = 100) -> Iterator[bytes]:
    """USAspending award-search pages (JSON bodies) holding ``events`` awards."""
    for start in range(0, events, page_size):
        rows = []
        for n in range(start, min(start + page_size, events)):
            a = data.action(n)
            agency, company = a["agency"], a["company"]
            rows.append({
                "internal_id": 100_000_000 + n,
                "generated_internal_id": f"CONT_AWD_{a['piid']}{n}_{agency.code}_-NONE-_-NONE-",
                "Award ID": f"{a['piid']}{n}",
                "Recipient Name": company.name,
                "Recipient UEI": company.uei,
                "Recipient DUNS Number": None,
                "recipient_id": f"{n:08x}-0000-0000-0000-000000000000-C",
                "Award Amount": a["amount"],
                "Total Outlays": None,
                "Description": a["description"],
                "Start Date": a["date"].isoformat(),
                "End Date": (a["date"] + dt.timedelta(days=365)).isoformat(),
                "Base Obligation Date": a["date"].isoformat(),
                "Last Modified Date": a["date"].isoformat(),
                "Awarding Agency": agency.department,
                "Awarding Agency Code": agency.toptier,
                "Awarding Sub Agency": agency.name,
                "Awarding Sub Agency Code": agency.code,
                "Funding Agency": agency.department,
                "Funding Agency Code": agency.toptier,
                "Funding Sub Agency": agency.name,
                "Funding Sub Agency Code": agency.code,
                "Contract Award Type": "DEFINITIVE CONTRACT",
                "NAICS": {"code": a["naics"], "description": "NAICS"},
                "PSC": {"code": a["psc"], "description": "PSC"},
                "awarding_agency_id": 1,
                "agency_slug": "agency",
            })
        has_next = start + page_size < events
        yield orjson.dumps({
            "spending_level": "awards",
            "limit": page_size,
            "results": rows,
            "page_metadata": {"page": start // page_size + 1, "hasNext": has_next,
                              "last_record_unique_id": None, "last_record_sort_value": "None"},
            "messages": [],
        })


FPDS_TITLE = "New DEFINITIVE CONTRACT {piid} awarded to {vendor} for the amount of ${amount}"
FPDS_ENTRY = "<entry><title><![CDATA[" + FPDS_TITLE + """]]></title>
<link rel="alternate" type="text/html" href="https://www.fpds.gov/ezsearch/search.do?q={piid}"/>
<modified>{date} 12:00:00</modified>
<content xmlns:ns1="https://www.fpds.gov/FPDS" type="application/xml">
<ns1:award xmlns:ns1="https://www.fpds.gov/FPDS" version="1.5">
<ns1:awardID><ns1:awardContractID><ns1:agencyID name="{agency}">{code}</ns1:agencyID><ns1:PIID>{piid}</ns1:PIID><ns1:modNumber>{mod}</ns1:modNumber><ns1:transactionNumber>0</ns1:transactionNumber></ns1:awardContractID></ns1:awardID>
<ns1:relevantContractDates><ns1:signedDate>{date} 00:00:00</ns1:signedDate><ns1:effectiveDate>{date} 00:00:00</ns1:effectiveDate></ns1:relevantContractDates>
<ns1:dollarValues><ns1:obligatedAmount>{amount}</ns1:obligatedAmount><ns1:baseAndExercisedOptionsValue>{amount}</ns1:baseAndExercisedOptionsValue><ns1:baseAndAllOptionsValue>{amount}</ns1:baseAndAllOptionsValue></ns1:dollarValues>
<ns1:purchaserInformation><ns1:contractingOfficeAgencyID name="{agency}" departmentID="{dept_code}" departmentName="{department}">{code}</ns1:contractingOfficeAgencyID><ns1:contractingOfficeID name="OFFICE">OFF01</ns1:contractingOfficeID></ns1:purchaserInformation>
<ns1:contractData><ns1:contractActionType description="DEFINITIVE CONTRACT">D</ns1:contractActionType><ns1:descriptionOfContractRequirement>{description}</ns1:descriptionOfContractRequirement></ns1:contractData>
<ns1:productOrServiceInformation><ns1:productOrServiceCode description="PSC">{psc}</ns1:productOrServiceCode><ns1:principalNAICSCode description="NAICS">{naics}</ns1:principalNAICSCode></ns1:productOrServiceInformation>
<ns1:vendor><ns1:vendorHeader><ns1:vendorName>{vendor}</ns1:vendorName></ns1:vendorHeader><ns1:vendorSiteDetails><ns1:entityIdentifiers><ns1:vendorUEIInformation><ns1:UEI>{uei}</ns1:UEI><ns1:UEILegalBusinessName>{vendor}</ns1:UEILegalBusinessName><ns1:ultimateParentUEI>{parent_uei}</ns1:ultimateParentUEI><ns1:ultimateParentUEIName>{parent_name}</ns1:ultimateParentUEIName></ns1:vendorUEIInformation></ns1:entityIdentifiers></ns1:vendorSiteDetails></ns1:vendor>
<ns1:transactionInformation><ns1:lastModifiedDate>{date} 12:00:00</ns1:lastModifiedDate></ns1:transactionInformation>
</ns1:award></content></entry>"""


def fpds_pages(data: Dataset, events: int, page_size: int = 10, offset: int = 0) -> Iterator[bytes]:
    """FPDS ATOM feed pages (10 entries each, with rel=next) holding ``events`` actions."""
    for start in range(0, events, page_size):
        entries = []
        for n in range(start, min(start + page_size, events)):
            a = data.action(offset + n)
            agency, company = a["agency"], a["company"]
            entries.append(FPDS_ENTRY.format(
                piid=f"F{a['piid']}{n}", mod=0 if n % 4 else 1, vendor=escape(company.name),
                uei=company.uei, parent_uei=company.parent_uei, parent_name=escape(company.parent_name),
                amount=f"{a['amount']:.2f}", date=a["date"].isoformat(), agency=escape(agency.name),
                code=agency.code, dept_code=agency.code[:2] + "00", department=escape(agency.department),
                description=escape(a["description"]), psc=a["psc"], naics=a["naics"],
            ))
        more = start + page_size < events
        link = f'<link rel="next" href="https://www.fpds.gov/ezsearch/FEEDS/ATOM?start={start + page_size}"/>' if more else ""
        yield (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>FPDS-NG search results</title>{link}{''.join(entries)}</feed>"
        ).encode()
