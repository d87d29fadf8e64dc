"""Resolve agencies and vendors named by sources to rows, and merge duplicate vendors.

Agencies: by code, then normalised name, alias or acronym; an unknown one is created under
the parent the source names and flagged for review. Vendors: by UEI, then DUNS, then
normalised name or alias; a strong identifier always wins over a name, and a near-miss name
is flagged for a curator (``VendorMatchFlag``), never merged automatically.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from difflib import SequenceMatcher
from typing import Any

from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils.text import slugify

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
from tracker.normalize import agency_acronym, agency_key, vendor_key
from tracker.services.bulk import rows_insert

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


class NearNames:
    """An in-memory index of vendor names for flagging near matches quickly.

    Candidates for a name are the vendors whose key starts with the same two words, plus the
    curated vendors (those not awaiting review); cheap length and ``quick_ratio`` filters run
    before the real similarity.
    """

    def __init__(self) -> None:
        self._blocks: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._curated: list[tuple[int, str]] = []
        for vendor_id, key, review in Vendor.objects.values_list(
            "id", "normalized", "needs_review"
        ):
            self.add(vendor_id, key, curated=not review)

    @staticmethod
    def _block(key: str) -> str:
        return " ".join(key.split()[:2])

    def add(self, vendor_id: int, key: str, *, curated: bool = False) -> None:
        self._blocks[self._block(key)].append((vendor_id, key))
        if curated:
            self._curated.append((vendor_id, key))

    def near(
        self, vendor_id: int, key: str, threshold: float = NEAR_MATCH
    ) -> list[tuple[int, float]]:
        """(vendor id, score) of other vendors whose names are alike."""
        found: dict[int, float] = {}
        for other_id, other in [*self._blocks.get(self._block(key), ()), *self._curated]:
            if other_id == vendor_id or other_id in found:
                continue
            shorter, longer = sorted((len(key), len(other)))
            if not longer or 2 * shorter / (shorter + longer) < threshold:
                continue
            matcher = SequenceMatcher(None, key, other)
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold:
                score = matcher.ratio()
                if score >= threshold:
                    found[other_id] = score
        return list(found.items())


class VendorResolver:
    """Maps ``VendorRef``s to vendor ids, with in-memory indexes of names and identifiers."""

    def __init__(self) -> None:
        self.created: set[int] = set()  # vendors this resolver added, for near-match review
        self._by_key: dict[str, int] = {}
        self._by_uei: dict[str, int] = {}
        self._by_duns: dict[str, int] = {}
        self._identifiers: dict[int, tuple[str, str]] = {}
        self._has_parent: set[int] = set()
        for vendor_id, key, uei, duns, parent in Vendor.objects.values_list(
            "id", "normalized", "uei", "duns", "parent_id"
        ):
            self._by_key.setdefault(key, vendor_id)
            if uei:
                self._by_uei[uei] = vendor_id
            if duns:
                self._by_duns[duns] = vendor_id
            self._identifiers[vendor_id] = (uei or "", duns or "")
            if parent:
                self._has_parent.add(vendor_id)
        for vendor_id, key in VendorAlias.objects.values_list("vendor_id", "normalized"):
            self._by_key.setdefault(key, vendor_id)
        self._cache: dict[tuple, int] = {}
        self._slugs: set[str] | None = None
        # Vendors created in this batch are written together by ``commit``; until then they
        # carry provisional negative ids.
        self._pending: dict[int, Vendor] = {}
        self._pending_parents: dict[int, int] = {}
        self._aliases: list[tuple[int, str, str]] = []
        # Where provisional ids were stored, so ``commit`` replaces just those entries
        # instead of scanning every index (tens of thousands of vendors) at every batch.
        self._provisional: list[tuple[dict, Any]] = []

    def resolve(self, ref: VendorRef) -> int:
        """The id of the vendor ``ref`` names: by UEI, DUNS, then name; created when unknown."""
        cache_key = (ref.name, ref.uei, ref.duns, ref.parent_name, ref.parent_uei, ref.parent_duns)
        found = self._cache.get(cache_key)
        if found is None:
            found = self._resolve(ref)
            self._note(self._cache, cache_key, found)
        return found

    def _note(self, table: dict, key: Any, vendor_id: int) -> None:
        """``table[key] = vendor_id``, remembering where provisional ids went."""
        table[key] = vendor_id
        if vendor_id < 0:
            self._provisional.append((table, key))

    def _resolve(self, ref: VendorRef) -> int:
        uei, duns = ref.uei.strip().upper()[:12], ref.duns.strip()[:9]
        vendor_id = self._by_uei.get(uei) if uei else None
        if vendor_id is None and duns:
            vendor_id = self._by_duns.get(duns)
        if vendor_id is None:
            by_name = self._by_key.get(vendor_key(ref.name))
            if by_name is not None:
                known_uei, known_duns = self._identifiers.get(by_name, ("", ""))
                # A strong identifier wins: same name, different UEI/DUNS is another company.
                conflict = (uei and known_uei and known_uei != uei) or (
                    duns and known_duns and known_duns != duns
                )
                vendor_id = None if conflict else by_name
        if vendor_id is None:
            vendor_id = self._create(ref, uei, duns)
        else:
            self._learn(vendor_id, ref, uei, duns)
        if vendor_id not in self._has_parent and (
            ref.parent_uei or ref.parent_duns or ref.parent_name
        ):
            self._attach_parent(vendor_id, ref)
        return vendor_id

    def _learn(self, vendor_id: int, ref: VendorRef, uei: str, duns: str) -> None:
        """Keep identifiers and spellings a source tells us about a known vendor."""
        known_uei, known_duns = self._identifiers.get(vendor_id, ("", ""))
        changes: dict[str, str] = {}
        if uei and not known_uei and uei not in self._by_uei:
            changes["uei"] = uei
            self._note(self._by_uei, uei, vendor_id)
        if duns and not known_duns and duns not in self._by_duns:
            changes["duns"] = duns
            self._note(self._by_duns, duns, vendor_id)
        if changes:
            self._identifiers[vendor_id] = (
                changes.get("uei", known_uei),
                changes.get("duns", known_duns),
            )
            if vendor_id < 0:
                for name, value in changes.items():
                    setattr(self._pending[vendor_id], name, value)
            else:
                Vendor.objects.filter(pk=vendor_id).update(**changes)
        key = vendor_key(ref.name)
        if key and key not in self._by_key:
            self._aliases.append((vendor_id, ref.name[:255], key))
            self._note(self._by_key, key, vendor_id)

    def _attach_parent(self, vendor_id: int, ref: VendorRef) -> None:
        if ref.parent_uei or ref.parent_duns:
            parent_ref = VendorRef(
                name=ref.parent_name or ref.name, uei=ref.parent_uei, duns=ref.parent_duns
            )
        elif vendor_key(ref.parent_name) != vendor_key(ref.name):
            parent_ref = VendorRef(name=ref.parent_name)
        else:
            return
        parent_id = self.resolve(parent_ref)
        if parent_id == vendor_id:
            return
        self._has_parent.add(vendor_id)
        if vendor_id < 0 or parent_id < 0:
            self._pending_parents[vendor_id] = parent_id
            return
        vendor = Vendor.objects.get(pk=vendor_id)
        parent = Vendor.objects.get(pk=parent_id)
        if f"/{vendor_id}/" not in parent.path:
            vendor.parent = parent
            vendor.save(update_fields=["parent"])

    def _create(self, ref: VendorRef, uei: str, duns: str) -> int:
        """Queue a new vendor (flagged for review) and return its provisional id."""
        provisional = -(len(self._pending) + 1)
        name = ref.name.strip()[:255] or "Unnamed vendor"
        vendor = Vendor(
            name=name,
            normalized=vendor_key(name),
            slug=self._free_slug(name),
            uei=uei or None,
            duns=duns or None,
            cage=ref.cage[:5],
            needs_review=True,
        )
        self._pending[provisional] = vendor
        if vendor.normalized not in self._by_key:
            self._note(self._by_key, vendor.normalized, provisional)
        if uei:
            self._note(self._by_uei, uei, provisional)
        if duns:
            self._note(self._by_duns, duns, provisional)
        self._identifiers[provisional] = (uei, duns)
        return provisional

    def _free_slug(self, name: str) -> str:
        if self._slugs is None:
            self._slugs = set(Vendor.objects.values_list("slug", flat=True))
        base = slugify(name)[:80] or "vendor"
        slug, number = base, 1
        while slug in self._slugs:
            number += 1
            slug = f"{base}-{number}"
        self._slugs.add(slug)
        return slug

    def commit(self) -> dict[int, int]:
        """Write the queued vendors and aliases in bulk; returns provisional id → real id."""
        real = self._commit_vendors() if self._pending else {}
        if self._aliases:
            VendorAlias.objects.bulk_create(
                [
                    VendorAlias(vendor_id=real.get(vendor_id, vendor_id), name=name, normalized=key)
                    for vendor_id, name, key in self._aliases
                ],
                ignore_conflicts=True,
            )
            self._aliases = []
        return real

    def _commit_vendors(self) -> dict[int, int]:
        provisional_ids = list(self._pending)
        vendors = list(self._pending.values())
        rows_insert(vendors)
        ids = [vendor.pk for vendor in vendors]
        real = dict(zip(provisional_ids, ids, strict=True))
        parent_of = {real.get(c, c): real.get(p, p) for c, p in self._pending_parents.items()}
        new = dict(zip(ids, vendors, strict=True))
        known_parents = set(parent_of.values()) - new.keys()
        paths = dict(
            Vendor.objects.filter(pk__in=known_parents).values_list("id", "path")
            if known_parents
            else ()
        )

        def path_of(vendor_id: int) -> str:
            if vendor_id not in paths:
                paths[vendor_id] = f"/{vendor_id}/"  # provisional: breaks parent cycles
                parent = parent_of.get(vendor_id)
                parent_path = path_of(parent) if parent else ""
                if parent and f"/{vendor_id}/" not in parent_path:
                    paths[vendor_id] = f"{parent_path}{vendor_id}/"
                else:
                    parent_of.pop(vendor_id, None)
            return paths[vendor_id]

        for vendor in vendors:
            vendor.path = path_of(vendor.pk)  # (drops a parent that would make a cycle)
            vendor.parent_id = parent_of.get(vendor.pk)
        with_parent = [vendor for vendor in vendors if vendor.parent_id]
        Vendor.objects.filter(pk__in=[v.pk for v in vendors if not v.parent_id]).update(
            path=Concat(Value("/"), Cast("id", CharField()), Value("/"))
        )
        Vendor.objects.bulk_update(with_parent, ["parent", "path"], batch_size=500)
        for child, parent in parent_of.items():
            if child not in new:  # a known vendor whose new parent was created just now
                vendor = Vendor.objects.get(pk=child)
                vendor.parent_id = parent
                vendor.save(update_fields=["parent"])
        self._remap(real)
        self.created.update(ids)
        self._pending, self._pending_parents = {}, {}
        return real

    def _remap(self, real: dict[int, int]) -> None:
        for table, key in self._provisional:
            value = table.get(key)
            if value is not None and value < 0:
                table[key] = real[value]
        self._provisional = []
        for provisional, vendor_id in real.items():
            self._identifiers[vendor_id] = self._identifiers.pop(provisional)
            if provisional in self._has_parent:
                self._has_parent.discard(provisional)
                self._has_parent.add(vendor_id)


def vendors_flag_near_matches(vendor_ids: Iterable[int]) -> int:
    """Flag, for a curator, vendors whose names are close to these (new) vendors' names.

    Run after an import rather than inside it, so flagging never slows ingestion.
    Idempotent: one flag per pair. Returns how many pairs were found.
    """
    wanted = list(Vendor.objects.filter(pk__in=list(vendor_ids)).values_list("id", "normalized"))
    if not wanted:
        return 0
    near = NearNames()
    flags = [
        VendorMatchFlag(
            vendor_id=vendor_id,
            candidate_id=other,
            score=score,
            reason=f"names alike ({score:.2f})",
        )
        for vendor_id, key in wanted
        for other, score in near.near(vendor_id, key)
    ]
    VendorMatchFlag.objects.bulk_create(flags, ignore_conflicts=True)
    return len(flags)


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
