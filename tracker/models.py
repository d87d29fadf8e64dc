"""The linked data model: agencies, vendors and technologies joined by timeline events.

Hierarchies (DHS > ICE > HSI, Amazon.com > AWS, biometrics > face recognition) are stored as
an adjacency list plus a materialised ``path`` ("/1/7/12/"), so "this agency and everything
under it" is one indexed prefix filter instead of a recursive query.
"""

from __future__ import annotations

from django.db import connection, models
from django.urls import reverse
from django.utils.text import slugify

from tracker.alerts.models import (
    AlertDelivery,
    AlertMessage,
    AlertSubscriber,
    AlertSubscription,
)

# The record vocabulary of scrapers/base.py (tests/tracker/test_models.py keeps the two equal).
EVENT_KINDS = (
    "award", "modification", "solicitation", "pitch", "meeting", "lobbying", "foia", "report",
    "other",
)
CONTRACT_KINDS = ("award", "modification")  # contract actions: what can follow a pitch
DATE_PRECISIONS = ("day", "month", "year")


def unique_slug(model: type[models.Model], text: str, *, exclude_pk: int | None = None) -> str:
    """A slug for ``text`` not yet used by ``model`` (suffixing -2, -3, … when taken)."""
    base = slugify(text)[:80] or "item"
    candidate, number = base, 1
    while model.objects.filter(slug=candidate).exclude(pk=exclude_pk).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def under_path(path: str) -> models.Q:
    """Nodes whose path starts with ``path``, in a form the path index can serve.

    SQLite cannot use the index for ``startswith`` (its LIKE ignores case, so it scans every
    row), so there it is the range [path, end): paths are digits and
    slashes ending in "/", and "0" sorts right after "/" ("/12/" → "/120"). PostgreSQL keeps
    ``LIKE``, which its pattern index serves for a constant prefix whatever the collation.
    """
    if connection.vendor == "sqlite":
        return models.Q(path__gte=path, path__lt=path[:-1] + "0")
    return models.Q(path__startswith=path)


class TreeNode(models.Model):
    """A node with a parent and a materialised path kept current on save."""

    path = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self.slug:  # type: ignore[attr-defined]
            self.slug = unique_slug(type(self), self.name, exclude_pk=self.pk)  # type: ignore
        super().save(*args, **kwargs)
        self.sync_path()

    def sync_path(self) -> None:
        """Store this node's path and re-path its subtree when the parent changed."""
        path = self.compute_path()
        if path == self.path:
            return
        if self.parent_id and f"/{self.pk}/" in self.parent.path:  # type: ignore[attr-defined]
            raise ValueError(f"{self} cannot be its own ancestor")
        type(self).objects.filter(pk=self.pk).update(path=path)
        self.path = path
        for child in type(self).objects.filter(parent_id=self.pk):
            child.sync_path()

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else "/"  # type: ignore[attr-defined]
        return f"{prefix}{self.pk}/"

    def ancestors(self) -> list:
        """Ancestors from the root down, excluding self."""
        ids = [int(part) for part in self.path.strip("/").split("/") if part][:-1]
        found = {node.pk: node for node in type(self).objects.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]

    def descendants(self) -> models.QuerySet:
        return self.subtree().exclude(pk=self.pk)

    def subtree(self) -> models.QuerySet:
        return type(self).objects.filter(under_path(self.path))


class Agency(TreeNode):
    class Level(models.TextChoices):
        FEDERAL = "federal"
        STATE = "state"
        LOCAL = "local"
        FOREIGN = "foreign"

    name = models.CharField(max_length=255)
    acronym = models.CharField(max_length=32, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.FEDERAL)
    agency_type = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="US")
    state = models.CharField(max_length=2, blank=True)
    place = models.CharField(max_length=120, blank=True)
    toptier_code = models.CharField("USAspending toptier code", max_length=8, blank=True)
    subtier_code = models.CharField("USAspending subtier code", max_length=8, blank=True)
    fpds_id = models.CharField("FPDS agency id", max_length=8, blank=True)
    description = models.TextField(blank=True)
    needs_review = models.BooleanField(default=False, help_text="Created by an import; check it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]
        indexes = [
            models.Index(fields=["toptier_code"]),
            models.Index(fields=["subtier_code"]),
            models.Index(fields=["fpds_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def get_absolute_url(self) -> str:
        return reverse("agency-detail", args=[self.slug])

    @property
    def short_name(self) -> str:
        return self.acronym or self.name


class AgencyAlias(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=255)
    normalized = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name_plural = "agency aliases"
        constraints = [
            models.UniqueConstraint(fields=["agency", "normalized"], name="agency_alias_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from tracker.normalize import agency_key

        self.normalized = agency_key(self.name)
        super().save(*args, **kwargs)


class Vendor(TreeNode):
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    normalized = models.CharField(max_length=255, db_index=True, editable=False, default="")
    uei = models.CharField("UEI", max_length=12, null=True, blank=True, unique=True)
    duns = models.CharField("DUNS", max_length=9, null=True, blank=True, unique=True)
    cage = models.CharField("CAGE", max_length=5, blank=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    needs_review = models.BooleanField(default=False, help_text="Created by an import; check it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from tracker.normalize import vendor_key

        self.normalized = vendor_key(self.name)
        self.uei = (self.uei or "").strip().upper() or None
        self.duns = (self.duns or "").strip() or None
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "normalized"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("vendor-detail", args=[self.slug])

    @property
    def short_name(self) -> str:
        """The name without its legal form ("Amazon.com, Inc." → "Amazon.com")."""
        from tracker.normalize import strip_legal_form

        return strip_legal_form(self.name)


class VendorAlias(models.Model):
    """Another name for a vendor, maybe only for a period (ShotSpotter → SoundThinking)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=255)
    normalized = models.CharField(max_length=255, db_index=True, editable=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "vendor aliases"
        constraints = [
            models.UniqueConstraint(fields=["vendor", "normalized"], name="vendor_alias_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from tracker.normalize import vendor_key

        self.normalized = vendor_key(self.name)
        super().save(*args, **kwargs)


class VendorMatchFlag(models.Model):
    """A near match between two vendors for a curator to merge or dismiss (never auto-merged)."""

    class Status(models.TextChoices):
        OPEN = "open"
        MERGED = "merged"
        DISMISSED = "dismissed"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="match_flags")
    candidate = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reason = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "candidate"], name="vendor_flag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} ≈ {self.candidate} ({self.score:.2f})"


class OrganisationProposal(models.Model):
    """An organisation named in news or a document that matches no known vendor or agency,
    for a curator to make a vendor of or dismiss (a dismissed name is never proposed again)."""

    class Status(models.TextChoices):
        OPEN = "open"
        ACCEPTED = "accepted"
        DISMISSED = "dismissed"

    name = models.CharField(max_length=255)
    normalized = models.CharField(max_length=255, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    first_event = models.ForeignKey(
        "Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    events = models.ManyToManyField(
        "Event", blank=True, related_name="organisation_proposals", help_text="Where it is named."
    )
    snippet = models.TextField(blank=True, help_text="The text around its first mention.")
    times_seen = models.PositiveIntegerField(default=0, help_text="Events that name it.")
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-times_seen", "name"]
        indexes = [models.Index(fields=["status", "-times_seen"], name="org_proposal_status_idx")]

    def __str__(self) -> str:
        return self.name


class Technology(TreeNode):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    atlas_category = models.CharField(
        "EFF Atlas category", max_length=120, blank=True, help_text="Crosswalk to the Atlas."
    )

    class Meta:
        verbose_name_plural = "technologies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("technology-detail", args=[self.slug])


# Technology slugs renamed by migration 0009 (its RENAMED): old links and filters still work.
RENAMED_TECHNOLOGIES = {
    "alpr": "automated-license-plate-readers",
    "cell-site-simulators": "cell-site-simulator",
    "fusion-centers": "fusion-center",
    "real-time-crime-centers": "real-time-crime-center",
    "investigative-platforms": "third-party-investigative-platforms",
    "forensic-phone-extraction": "forensic-extraction",
    "location-data-brokers": "location-data",
}

class Strength(models.TextChoices):
    """How much one piece of tagging evidence proves by itself."""

    STRONG = "strong", "strong: tags on its own"
    SUPPORTING = "supporting", "supporting: needs a second clue for the same technology"
    CONTEXTUAL = "contextual", "contextual: needs a second clue or a strong tag of any technology"


class Product(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=100, unique=True)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.SET_NULL)
    technology = models.ForeignKey(Technology, on_delete=models.PROTECT, related_name="products")
    aliases = models.JSONField(default=list, blank=True, help_text="Other spellings of the name.")
    description = models.TextField(blank=True)
    strength = models.CharField(
        max_length=10,
        choices=Strength.choices,
        default=Strength.STRONG,
        help_text="Supporting for a name that is also an ordinary word or another product.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaggingRule(models.Model):
    """How text or codes map to a technology; edited by curators, applied by the importer."""

    class Kind(models.TextChoices):
        KEYWORD = "keyword", "keyword or phrase (whole words, any case)"
        PATTERN = "pattern", "regular expression"
        PSC = "psc", "PSC code prefix or description"
        NAICS = "naics", "NAICS code prefix or description"
        ATLAS = "atlas", "Atlas of Surveillance technology label"
        VENDOR = "vendor", "vendor name (and, with a vendor row, its whole family)"
        EXCLUDE = "exclude", "exclusion: a phrase that hides the matches inside it"

    technology = models.ForeignKey(Technology, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.KEYWORD)
    value = models.CharField(max_length=255)
    strength = models.CharField(max_length=10, choices=Strength.choices, default=Strength.STRONG)
    vendor = models.ForeignKey(
        "Vendor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tagging_rules",
        help_text="Vendor rules: this vendor, its aliases and its subsidiaries all match.",
    )
    active = models.BooleanField(default=True)
    search_term = models.BooleanField(
        default=False, help_text="Also send this keyword to sources that can filter by keyword."
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["technology", "kind", "value"], name="rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value} → {self.technology}"


class Event(models.Model):
    Kind = models.TextChoices("Kind", [(k.upper(), k) for k in EVENT_KINDS])
    Precision = models.TextChoices("Precision", [(p.upper(), p) for p in DATE_PRECISIONS])

    class Review(models.TextChoices):
        AUTO = "auto", "automatic"
        NEEDS_REVIEW = "needs_review", "needs review"
        VERIFIED = "verified", "verified"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    date = models.DateField(null=True, blank=True)
    date_precision = models.CharField(max_length=5, choices=Precision.choices, default="day")
    title = models.CharField(max_length=500)
    summary = models.TextField(blank=True)
    body_text = models.TextField(blank=True, help_text="Kept article or document text for search.")
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    review_state = models.CharField(max_length=16, choices=Review.choices, default=Review.AUTO)
    match_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    codes = models.JSONField(default=dict, blank=True, help_text="PSC, NAICS and other codes.")
    agencies = models.ManyToManyField(Agency, through="EventAgency", related_name="events")
    vendors = models.ManyToManyField(Vendor, through="EventVendor", related_name="events")
    technologies = models.ManyToManyField(
        Technology, through="EventTechnology", related_name="events"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["-date", "-id"], name="event_date_idx"),
            models.Index(fields=["kind", "-date"], name="event_kind_date_idx"),
            models.Index(fields=["amount"], name="event_amount_idx"),
            models.Index(fields=["review_state"], name="event_review_idx"),
            models.Index(fields=["updated_at", "id"], name="event_updated_idx"),  # API sync
        ]

    def __str__(self) -> str:
        return f"{self.date or 'undated'} {self.kind}: {self.title[:80]}"

    def get_absolute_url(self) -> str:
        return reverse("event-detail", args=[self.pk])


class EventAgency(models.Model):
    class Role(models.TextChoices):
        BUYER = "buyer"
        FUNDER = "funder"
        PITCHED_TO = "pitched-to"
        REQUESTER = "requester"
        SUBJECT = "subject"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="agency_links")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="event_links")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.BUYER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "agency", "role"], name="event_agency_unique")
        ]
        indexes = [models.Index(fields=["agency", "event"])]

    def __str__(self) -> str:
        return f"{self.agency} ({self.role})"


class EventVendor(models.Model):
    class Role(models.TextChoices):
        VENDOR = "vendor"
        AWARDEE = "awardee"
        CLIENT = "client"
        INTERMEDIARY = "intermediary"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="vendor_links")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="event_links")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VENDOR)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "vendor", "role"], name="event_vendor_unique")
        ]
        indexes = [models.Index(fields=["vendor", "event"])]

    def __str__(self) -> str:
        return f"{self.vendor} ({self.role})"


class EventTechnology(models.Model):
    class TaggedBy(models.TextChoices):
        RULE = "rule"
        CURATOR = "curator"
        SOURCE = "source"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="technology_links")
    technology = models.ForeignKey(Technology, on_delete=models.CASCADE, related_name="event_links")
    tagged_by = models.CharField(max_length=8, choices=TaggedBy.choices, default=TaggedBy.RULE)
    rule = models.ForeignKey(TaggingRule, null=True, blank=True, on_delete=models.SET_NULL)
    evidence = models.JSONField(
        default=list, blank=True, help_text="Why it was tagged: each rule that fired, on what."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "technology"], name="event_technology_unique")
        ]
        indexes = [models.Index(fields=["technology", "event"])]

    def __str__(self) -> str:
        return f"{self.technology} ({self.tagged_by})"


class TagRejection(models.Model):
    """A curator's "this event is not about this technology": retagging never adds it back."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tag_rejections")
    technology = models.ForeignKey(Technology, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "technology"], name="tag_rejection_unique")
        ]

    def __str__(self) -> str:
        return f"not {self.technology}: event {self.event_id}"


class SourceRecord(models.Model):
    """Provenance: one source's record of an event, keyed by (source, external id)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sources")
    source = models.CharField(max_length=32)
    external_id = models.CharField(max_length=500)
    url = models.URLField(max_length=2000, blank=True)
    retrieved_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="source_record_unique")
        ]
        ordering = ["source", "external_id"]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class ScrapeRun(models.Model):
    """One run of one source, with its counts and errors: the admin's health dashboard."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        PARTIAL = "partial", "succeeded with failures"
        FAILED = "failed"
        SKIPPED = "skipped"

    source = models.CharField(max_length=32, db_index=True)
    parameters = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    pages = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    drift = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def summary(self) -> str:
        return (
            f"inserted={self.inserted} updated={self.updated} unchanged={self.unchanged} "
            f"skipped={self.skipped} failed={self.failed}"
        )


class NewsFeed(models.Model):
    """An RSS/Atom feed the ``news`` source reads; editable in the admin."""

    url = models.URLField(max_length=1000, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


__all__ = [
    "RENAMED_TECHNOLOGIES",
    "Agency",
    "AgencyAlias",
    "AlertDelivery",
    "AlertMessage",
    "AlertSubscriber",
    "AlertSubscription",
    "Event",
    "EventAgency",
    "EventTechnology",
    "EventVendor",
    "NewsFeed",
    "Product",
    "ScrapeRun",
    "SourceRecord",
    "Strength",
    "TagRejection",
    "TaggingRule",
    "Technology",
    "Vendor",
    "VendorAlias",
    "VendorMatchFlag",
]


class EntityStat(models.Model):
    """Events and obligated amounts per year for an entity and everything below it (denormalised).

    Rebuilt by ``tracker.stats.refresh_stats``; ``year`` is None for undated events.
    """

    entity_type = models.CharField(max_length=16)
    entity_id = models.IntegerField()
    year = models.IntegerField(null=True)
    events = models.IntegerField()
    obligated = models.DecimalField(max_digits=22, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["entity_type", "entity_id"], name="entity_stat_idx")]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id} {self.year or 'undated'}: {self.events}"


class EntityTotal(models.Model):
    """All-time event count for an entity and everything below it (orders filter choices)."""

    entity_type = models.CharField(max_length=16)
    entity_id = models.IntegerField()
    events = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity_type", "entity_id"], name="entity_total_unique")
        ]
        indexes = [models.Index(fields=["entity_type", "-events"], name="entity_total_rank_idx")]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id}: {self.events}"


class EntityCounterparty(models.Model):
    """The most frequent directly linked agencies/vendors on an entity's (subtree's) events."""

    entity_type = models.CharField(max_length=16)
    entity_id = models.IntegerField()
    other_type = models.CharField(max_length=16)
    other_id = models.IntegerField()
    events = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["entity_type", "entity_id", "other_type"], name="entity_cp_idx")
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id} with {self.other_type} {self.other_id}"


class ContractAction(models.Model):
    """A contract action as pitch outcomes count it: one row per agency link and vendor link of
    an award or modification, with the event's date (a derived index, never edited).

    Database triggers (migration 0016) keep it from the link tables and the event's kind and
    date, so imports, merges, the admin and raw SQL are all covered. It exists because an
    outcome counts the actions between an agency subtree and a vendor family: joining the two
    link tables for a large pair misses the benchmark's filtered-export floor, and one index
    on (agency, vendor, date) reads the pair directly.
    """

    agency_link_id = models.BigIntegerField()
    vendor_link_id = models.BigIntegerField()
    event_id = models.BigIntegerField(db_index=True)
    agency_id = models.BigIntegerField()
    vendor_id = models.BigIntegerField()
    date = models.DateField(null=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["agency_id", "vendor_id", "date", "event_id"], name="contract_action_idx"
            )
        ]

    def __str__(self) -> str:
        return f"contract action {self.event_id}: agency {self.agency_id}, vendor {self.vendor_id}"


class ExportCells(models.Model):
    """An event's link cells exactly as the CSV export writes them (a cache, one row an event).

    Joined with "; " in the export's documented order and already neutralised against
    spreadsheet formulas. Database triggers (migrations 0008 and 0010) delete an event's row
    whenever its agency, vendor or technology links (or a tag's evidence) or its source records
    change, or a linked entity's name or slug does; ``tracker.exports.cells.refresh_export_cells``
    writes rows again (after every import, and for all events without one on a schedule). The
    export computes the cells of an event without a row itself, so a missing row costs time,
    never correctness.
    """

    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.CASCADE, related_name="export_cells"
    )
    agencies = models.TextField(blank=True)
    agency_ids = models.TextField(blank=True)
    vendors = models.TextField(blank=True)
    vendor_ids = models.TextField(blank=True)
    technologies = models.TextField(blank=True)
    sources = models.TextField(blank=True)
    source_urls = models.TextField(blank=True)
    external_ids = models.TextField(blank=True)
    agency_pks = models.TextField(blank=True, help_text="Agency ids for the outcome column.")
    pitch_vendor_pks = models.TextField(
        blank=True, help_text="Ids of vendors in a pitching role, for the outcome column."
    )
    technology_evidence = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"export cells of event {self.event_id}"


class QuotaUse(models.Model):
    """Requests one key made on one UTC day, counted across runs and workers.

    ``key`` names the allowance without storing the secret (e.g. ``sam:`` and a hash of the
    API key); ``tracker.services.politeness.DatabaseQuota`` adds to ``used`` with one
    conditional UPDATE, so concurrent workers never spend more than the limit.
    """

    key = models.CharField(max_length=64)
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="quota_use_unique")]

    def __str__(self) -> str:
        return f"{self.key} {self.day}: {self.used}"


class Council(models.Model):
    """A city or county council whose Legistar records the ``legistar`` source reads.

    ``client`` is the council's Legistar name (``{client}.legistar.com``). Records link to the
    ``jurisdiction`` (the city or county) and, when set, the ``police`` department or sheriff
    under it. ``token`` names the environment variable holding the council's API token, for
    the few clients that require one; the token itself is never stored here.
    """

    client = models.SlugField(
        max_length=64, unique=True, help_text="The {client}.legistar.com name."
    )
    name = models.CharField(max_length=200, help_text="Display name, e.g. Oakland City Council.")
    jurisdiction = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="councils", help_text="The city or county."
    )
    police = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="overseeing_councils",
        help_text="The police department or sheriff whose purchases the council approves.",
    )
    token = models.CharField(
        max_length=100,
        blank=True,
        help_text="Name of the environment variable holding the API token, if one is needed.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["client"]

    def __str__(self) -> str:
        return self.name or self.client
