"""Name normalisers: many spellings of one company or agency reduce to one comparison key.

"AMAZON WEB SERVICES, INC.", "Amazon Web Services Inc" and "amazon web services" all give
``amazon web services``; "NUAXIS LLC" and "NUAXIS LIMITED LIABILITY COMPANY" give ``nuaxis``.
"""

from __future__ import annotations

import re
import unicodedata

# Legal-form words dropped from the end of a company name (repeatedly: "Foo Holdings, Inc.").
_LEGAL_SUFFIXES = [
    "limited liability company",
    "limited liability partnership",
    "limited partnership",
    "public limited company",
    "incorporated",
    "corporation",
    "company",
    "limited",
    "holdings",
    "l l c",
    "l l p",
    "l p",
    "llc",
    "llp",
    "inc",
    "corp",
    "co",
    "ltd",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "bv",
    "nv",
    "pllc",
    "pc",
]
_SUFFIX_RE = re.compile(r"(?:\s+(?:" + "|".join(re.escape(s) for s in _LEGAL_SUFFIXES) + r"))+$")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ").replace("'", "").replace("\u2019", "")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


# Legal forms dropped for display ("McKinsey & Company" keeps its "Company").
_DISPLAY_FORMS = [
    "limited liability company",
    "incorporated",
    "corporation",
    "l.l.c.",
    "llc",
    "inc",
    "corp",
    "ltd",
    "plc",
    "l.p.",
    "lp",
    "llp",
    "gmbh",
]
_DISPLAY_SUFFIX_RE = re.compile(
    r"(?:,?\s+(?:" + "|".join(re.escape(form) for form in _DISPLAY_FORMS) + r")\.?)+$",
    re.IGNORECASE,
)


def strip_legal_form(name: str) -> str:
    """A display name without a trailing legal form ("Amazon.com, Inc." → "Amazon.com")."""
    return _DISPLAY_SUFFIX_RE.sub("", name.strip()).strip(" ,") or name


def vendor_key(name: str) -> str:
    """The comparison key of a company name: folded case, no punctuation or legal form."""
    text = _fold(name)
    text = re.sub(r"^the ", "", text)
    stripped = _SUFFIX_RE.sub("", text).strip()
    # "d b a" (doing business as): keep the legal name part.
    stripped = stripped.split(" d b a ")[0].strip()
    return stripped or text


_PAREN = re.compile(r"\(([^)]*)\)")


def agency_key(name: str) -> str:
    """The comparison key of an agency name.

    Folds case and punctuation, drops "U.S."/"United States", and turns the inverted
    "Homeland Security, Dept of" into "department of homeland security".
    """
    text = _PAREN.sub(" ", name)
    inverted = re.match(r"^\s*(.+?),\s*(dept\.?|department)\s+of(?: the)?\s*$", text, re.I)
    if inverted:
        text = f"department of {inverted.group(1)}"
    text = _fold(text)
    text = re.sub(r"\b(?:u s|united states|us)\b", " ", text)
    text = re.sub(r"\bdept\b", "department", text)
    text = re.sub(r"\bthe\b", " ", text)
    return _SPACES.sub(" ", text).strip()


def agency_acronym(name: str) -> str:
    """The acronym a name carries in parentheses ("Immigration & Customs Enforcement (ICE)")."""
    match = _PAREN.search(name)
    if match and re.fullmatch(r"[A-Za-z&.\- ]{2,12}", match.group(1).strip()):
        return match.group(1).replace(".", "").replace(" ", "").upper()
    return ""


def word_set(words: str) -> frozenset[str]:
    """The words of a whitespace-separated list (long word lists read better as a paragraph)."""
    return frozenset(words.split())


# Words that say what a company does or where, not which one it is: a vendor name made only
# of these ("SECURITY SOLUTIONS INC", "Global Services") is too generic to spot in prose.
GENERIC_WORDS = word_set(
    """
    a advanced aerospace ai air america american an analytics and applied artificial associates
    at biometric biometrics business by cloud communications company computer computers
    consultants consulting corporate cyber data defence defense design development digital
    dynamics electronics engineering enterprise enterprises equipment first for forensics
    general global government group holdings identity imaging in industries information
    innovation innovations integrated intelligence intelligent international investigations
    laboratories labs learning logistics machine management media mobile national network
    networks new of on one open operations partners predictive private products professional
    protection public research resources robotics safety science sciences secure security
    service services signals smart social software solution solutions source specialists states
    strategic strategies supply support surveillance systems tech technologies technology the
    threat training united usa video vision wireless worldwide
    """
)


def generic_name(words: list[str]) -> bool:
    """Whether a name (as words) is too generic to identify a company: no word of it is
    distinctive, or it is shorter than three characters."""
    folded = [word.lower() for word in words]
    return len("".join(folded)) < 3 or all(word in GENERIC_WORDS for word in folded)
