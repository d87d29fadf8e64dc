"""Resolve agencies and vendors named by sources to rows, and merge duplicate vendors.

Agencies: by code, then normalised name, alias or acronym; an unknown one is created under
the parent the source names and flagged for review. Vendors: by UEI, then DUNS, then
normalised name or alias; a strong identifier always wins over a name, and a near-miss name
is flagged for a curator (``VendorMatchFlag``), never merged automatically.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction

from scrapers.base import AgencyRef, VendorRef
from tracker.models import (
    Agency,
    AgencyAlias,
    EventVendor,
    Product,
    Vendor,
    VendorAlias,
    VendorMatchFlag,
)
from tracker.normalize import agency_acronym, agency_key, similarity, vendor_key

NEAR_MATCH = 0.88
CODE_FIELDS = {
    "toptier": ("toptier_code",),
    "subtier": ("subtier_code", "fpds_id"),
    "fpds": ("fpds_id", "subtier_code"),
    "fpds_department": ("fpds_id",),
}


class AgencyResolver:
    """Maps ``AgencyRef``s to ``Agency`` rows, with a per-run cache."""

    def __init__(self) -> None:
        self._by_key: dict[str, int] = {}
        self._by_acronym: dict[str, list[int]] = defaultdict(list)
        self._cache: dict[tuple, Agency] = {}
        for agency_id, key in AgencyAlias.objects.values_list("agency_id", "normalized"):
            self._by_key.setdefault(key, agency_id)
        for agency in Agency.objects.only("id", "name", "acronym"):
            self._by_key.setdefault(agency_key(agency.name), agency.id)
            if agency.acronym:
                self._by_acronym[agency.acronym.upper()].append(agency.id)

    def resolve(self, ref: AgencyRef) -> Agency:
        """The agency ``ref`` names, created (and flagged for review) when unknown."""
        cache_key = (ref.name, ref.code, ref.code_type, ref.parent.name if ref.parent else "")
        if cache_key not in self._cache:
            self._cache[cache_key] = self._resolve(ref)
        return self._cache[cache_key]

    def _resolve(self, ref: AgencyRef) -> Agency:
        parent = self.resolve(ref.parent) if ref.parent and ref.parent.name else None
        agency = self._by_code(ref) or self._by_name(ref, parent)
        if agency is None:
            agency = self._create(ref, parent)
        elif ref.code and ref.code_type in CODE_FIELDS:
            field = CODE_FIELDS[ref.code_type][0]
            if not getattr(agency, field):
                setattr(agency, field, ref.code)
                agency.save(update_fields=[field])
        return agency

    def _by_code(self, ref: AgencyRef) -> Agency | None:
        if not ref.code:
            return None
        for field in CODE_FIELDS.get(ref.code_type, ()):
            found = Agency.objects.filter(**{field: ref.code}).first()
            if found:
                return found
        return None

    def _by_name(self, ref: AgencyRef, parent: Agency | None) -> Agency | None:
        key = agency_key(ref.name)
        if key in self._by_key:
            return Agency.objects.get(pk=self._by_key[key])
        acronym = (ref.acronym or agency_acronym(ref.name)).upper()
        candidates = self._by_acronym.get(acronym, []) if acronym else []
        if len(candidates) > 1 and parent is not None:
            under = Agency.objects.filter(pk__in=candidates, path__startswith=parent.path)
            candidates = list(under.values_list("pk", flat=True))
        return Agency.objects.get(pk=candidates[0]) if len(candidates) == 1 else None

    def _create(self, ref: AgencyRef, parent: Agency | None) -> Agency:
        fields = {"toptier": "toptier_code", "subtier": "subtier_code", "fpds": "fpds_id"}
        agency = Agency(
            name=ref.name.strip()[:255] or "Unnamed agency",
            acronym=(ref.acronym or agency_acronym(ref.name))[:32],
            parent=parent,
            level=ref.level or (parent.level if parent else Agency.Level.FEDERAL),
            agency_type=ref.agency_type[:100],
            country=(ref.country or "US")[:2],
            state=ref.state[:2],
            place=ref.place[:120],
            needs_review=True,
        )
        if ref.code and ref.code_type in fields:
            setattr(agency, fields[ref.code_type], ref.code[:8])
        if ref.code and ref.code_type == "fpds_department":
            agency.fpds_id = ref.code[:8]
        agency.save()
        alias = AgencyAlias.objects.create(agency=agency, name=ref.name[:255])
        self._by_key[alias.normalized] = agency.id
        if agency.acronym:
            self._by_acronym[agency.acronym.upper()].append(agency.id)
        return agency


class VendorResolver:
    """Maps ``VendorRef``s to ``Vendor`` rows, with a per-run cache of names and identifiers."""

    def __init__(self, *, flag_near_matches: bool = True) -> None:
        self.flag_near_matches = flag_near_matches
        self._by_key: dict[str, int] = {}
        for vendor_id, key in Vendor.objects.values_list("id", "normalized"):
            self._by_key.setdefault(key, vendor_id)
        for vendor_id, key in VendorAlias.objects.values_list("vendor_id", "normalized"):
            self._by_key.setdefault(key, vendor_id)
        self._cache: dict[tuple, Vendor] = {}

    def resolve(self, ref: VendorRef) -> Vendor:
        """The vendor ``ref`` names: by UEI, DUNS, then name; created when unknown."""
        cache_key = (ref.name, ref.uei, ref.duns, ref.parent_name, ref.parent_uei)
        if cache_key not in self._cache:
            self._cache[cache_key] = self._resolve(ref)
        return self._cache[cache_key]

    def _resolve(self, ref: VendorRef) -> Vendor:
        uei, duns = ref.uei.strip().upper(), ref.duns.strip()
        vendor = None
        if uei:
            vendor = Vendor.objects.filter(uei=uei).first()
        if vendor is None and duns:
            vendor = Vendor.objects.filter(duns=duns).first()
        if vendor is None:
            by_name = self._by_name(ref.name)
            # A strong identifier wins: same name but a different UEI/DUNS is another company.
            conflict = by_name and (
                (uei and by_name.uei and by_name.uei != uei)
                or (duns and by_name.duns and by_name.duns != duns)
            )
            vendor = None if conflict else by_name
        if vendor is None:
            vendor = self._create(ref, uei, duns)
        else:
            self._fill_identifiers(vendor, ref, uei, duns)
        if vendor.parent_id is None and (ref.parent_uei or ref.parent_duns or ref.parent_name):
            parent = self._parent(ref)
            if (
                parent is not None
                and parent.pk != vendor.pk
                and f"/{vendor.pk}/" not in parent.path
            ):
                vendor.parent = parent
                vendor.save(update_fields=["parent"])
        return vendor

    def _by_name(self, name: str) -> Vendor | None:
        key = vendor_key(name)
        vendor_id = self._by_key.get(key)
        return Vendor.objects.filter(pk=vendor_id).first() if vendor_id else None

    def _fill_identifiers(self, vendor: Vendor, ref: VendorRef, uei: str, duns: str) -> None:
        changed = []
        if uei and not vendor.uei and not Vendor.objects.filter(uei=uei).exists():
            vendor.uei = uei
            changed.append("uei")
        if duns and not vendor.duns and not Vendor.objects.filter(duns=duns).exists():
            vendor.duns = duns
            changed.append("duns")
        if ref.cage and not vendor.cage:
            vendor.cage = ref.cage[:5]
            changed.append("cage")
        if changed:
            vendor.save(update_fields=changed)
        key = vendor_key(ref.name)
        if key and key not in self._by_key:
            VendorAlias.objects.get_or_create(
                vendor=vendor, normalized=key, defaults={"name": ref.name[:255]}
            )
            self._by_key[key] = vendor.pk

    def _parent(self, ref: VendorRef) -> Vendor | None:
        if ref.parent_uei or ref.parent_duns:
            return self.resolve(
                VendorRef(
                    name=ref.parent_name or ref.name, uei=ref.parent_uei, duns=ref.parent_duns
                )
            )
        if ref.parent_name and vendor_key(ref.parent_name) != vendor_key(ref.name):
            return self.resolve(VendorRef(name=ref.parent_name))
        return None

    def _create(self, ref: VendorRef, uei: str, duns: str) -> Vendor:
        vendor = Vendor.objects.create(
            name=ref.name.strip()[:255] or "Unnamed vendor",
            uei=uei or None,
            duns=duns or None,
            cage=ref.cage[:5],
            needs_review=True,
        )
        self._by_key.setdefault(vendor.normalized, vendor.pk)
        if self.flag_near_matches:
            vendor_flag_near_matches(vendor=vendor)
        return vendor


def vendor_flag_near_matches(
    *, vendor: Vendor, threshold: float = NEAR_MATCH
) -> list[VendorMatchFlag]:
    """Flag vendors whose normalised name is close to ``vendor``'s, for a curator to review.

    Idempotent: one flag per pair. Names sharing a key are flagged too (they were kept apart
    by conflicting identifiers).
    """
    key = vendor.normalized
    if not key:
        return []
    first = key.split()[0]
    candidates = Vendor.objects.exclude(pk=vendor.pk).filter(normalized__startswith=first[:3])
    flags = []
    for other in candidates.only("id", "normalized")[:2000]:
        score = similarity(key, other.normalized)
        if score >= threshold:
            flag, _ = VendorMatchFlag.objects.get_or_create(
                vendor=vendor,
                candidate=other,
                defaults={"score": score, "reason": f"names alike ({score:.2f})"},
            )
            flags.append(flag)
    return flags


@transaction.atomic
def vendor_merge(*, source: Vendor, target: Vendor) -> Vendor:
    """Fold ``source`` into ``target``: re-point events, children, products and aliases.

    The source's name (and its aliases) become aliases of the target; its identifiers move
    over when the target has none. The source row is deleted.
    """
    if source.pk == target.pk:
        raise ValueError("cannot merge a vendor into itself")
    if f"/{source.pk}/" in target.path:
        raise ValueError(f"{target} is under {source}; merge the other way round")
    for link in EventVendor.objects.filter(vendor=source):
        if EventVendor.objects.filter(event=link.event_id, vendor=target, role=link.role).exists():
            link.delete()
        else:
            link.vendor = target
            link.save(update_fields=["vendor"])
    Vendor.objects.filter(parent=source).update(parent=target)
    for child in Vendor.objects.filter(parent=target):
        child.sync_path()
    Product.objects.filter(vendor=source).update(vendor=target)
    for alias in VendorAlias.objects.filter(vendor=source):
        if target.aliases.filter(normalized=alias.normalized).exists():
            alias.delete()
        else:
            alias.vendor = target
            alias.save(update_fields=["vendor"])
    if not target.aliases.filter(normalized=source.normalized).exists():
        VendorAlias.objects.create(vendor=target, name=source.name)
    moved = {"uei": source.uei, "duns": source.duns, "cage": source.cage}
    source.delete()  # its review flags go with it (cascade)
    changed = [name for name, value in moved.items() if value and not getattr(target, name)]
    for name in changed:
        setattr(target, name, moved[name])
    if changed:
        target.save(update_fields=changed)
    return target
