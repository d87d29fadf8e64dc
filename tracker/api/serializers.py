"""Read-only representations: events with their links and provenance, and the entity trees."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from tracker.models import Agency, Event, EventTechnology, Strength, Technology, Vendor

ENTITY_NAMES = {Agency: "agency", Vendor: "vendor", Technology: "technology"}


def absolute(context: dict, name: str, *args: Any) -> str:
    """The absolute URL of the named route, built from the request in ``context``."""
    return context["request"].build_absolute_uri(reverse(name, args=args))


class EntityRefSerializer(serializers.Serializer):
    """A link to an agency, vendor or technology: slug, name, API and page URLs."""

    slug = serializers.CharField()
    name = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="This entity in the API.")
    html_url = serializers.SerializerMethodField(help_text="This entity's page on the site.")

    def get_url(self, entity: Agency | Vendor | Technology) -> str:
        return absolute(self.context, f"api-{ENTITY_NAMES[type(entity)]}-detail", entity.slug)

    def get_html_url(self, entity: Agency | Vendor | Technology) -> str:
        return self.context["request"].build_absolute_uri(entity.get_absolute_url())


class LinkSerializer(EntityRefSerializer):
    """An entity linked to an event, with its role in the event."""

    role = serializers.CharField()

    def to_representation(self, link: Any) -> dict:
        entity = getattr(link, self.entity_field)
        return {
            "slug": entity.slug,
            "name": entity.name,
            "url": self.get_url(entity),
            "html_url": self.get_html_url(entity),
            "role": getattr(link, self.role_field),
        }


class AgencyLinkSerializer(LinkSerializer):
    entity_field, role_field = "agency", "role"


class VendorLinkSerializer(LinkSerializer):
    entity_field, role_field = "vendor", "role"


EVIDENCE_FIELDS = ("kind", "field", "match", "strength", "why")


class EvidenceSerializer(serializers.Serializer):
    """One clue behind a technology tag."""

    kind = serializers.CharField(
        help_text="keyword, product, vendor, psc, naics, atlas, base (inherited from the base "
        "award) or curator."
    )
    field = serializers.CharField(
        help_text="Where it matched: title, description, text, vendor, psc, naics, source or "
        "base award (empty for a curator's confirmation)."
    )
    match = serializers.CharField(help_text="The text as found.")
    strength = serializers.ChoiceField(choices=Strength.choices)
    why = serializers.CharField(help_text="The clue as a sentence.")


class TechnologyLinkSerializer(LinkSerializer):
    """A technology tag: how it was made and why (``evidence`` is empty for tags made before
    evidence was recorded)."""

    role = serializers.CharField(help_text="Same as tagged_by (kept for older clients).")
    tagged_by = serializers.ChoiceField(choices=EventTechnology.TaggedBy.choices)
    evidence = EvidenceSerializer(many=True)
    entity_field, role_field = "technology", "tagged_by"

    def to_representation(self, link: EventTechnology) -> dict:
        return {
            **super().to_representation(link),
            "tagged_by": link.tagged_by,
            "evidence": [
                {name: str(item.get(name) or "") for name in EVIDENCE_FIELDS}
                for item in link.evidence or []
            ],
        }


class SourceSerializer(serializers.Serializer):
    """One source's record of the event (provenance)."""

    source = serializers.CharField()
    external_id = serializers.CharField()
    url = serializers.CharField()
    retrieved_at = serializers.DateTimeField()


class EventSerializer(serializers.ModelSerializer):
    """An event with its agencies, vendors, technologies (with roles) and sources."""

    url = serializers.SerializerMethodField(help_text="This event in the API.")
    html_url = serializers.SerializerMethodField(help_text="This event's page on the site.")
    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        coerce_to_string=True,
        allow_null=True,
        help_text="A decimal string.",
    )
    agencies = AgencyLinkSerializer(source="agency_links", many=True)
    vendors = VendorLinkSerializer(source="vendor_links", many=True)
    technologies = TechnologyLinkSerializer(source="technology_links", many=True)
    sources = SourceSerializer(many=True)

    class Meta:
        model = Event
        fields = (
            "id",
            "url",
            "html_url",
            "kind",
            "date",
            "date_precision",
            "title",
            "summary",
            "amount",
            "currency",
            "review_state",
            "agencies",
            "vendors",
            "technologies",
            "sources",
            "updated_at",
        )
        extra_kwargs = {
            "updated_at": {
                "help_text": "When this event was last created or changed (UTC); see updated_since."
            }
        }

    def get_url(self, event: Event) -> str:
        return absolute(self.context, "api-event-detail", event.pk)

    def get_html_url(self, event: Event) -> str:
        return self.context["request"].build_absolute_uri(event.get_absolute_url())


class EventDetailSerializer(EventSerializer):
    """An event with its kept text, codes and, for pitch-like events, what followed."""

    outcome = serializers.SerializerMethodField(
        help_text="For pitches, meetings, solicitations and lobbying: what followed."
    )

    class Meta(EventSerializer.Meta):
        fields = (
            *EventSerializer.Meta.fields,
            "body_text",
            "codes",
            "outcome",
            "created_at",
        )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_outcome(self, event: Event) -> str | None:
        return self.context.get("outcome")


class EntitySerializer(EntityRefSerializer):
    """An entity in a list: its parent and where to find its events."""

    parent = serializers.SerializerMethodField(
        help_text="Its parent (department, parent company, broader technology); null at the top."
    )
    events_url = serializers.SerializerMethodField(help_text="Its events in the API.")
    csv_url = serializers.SerializerMethodField(help_text="Its events as CSV.")

    @extend_schema_field(EntityRefSerializer(allow_null=True))
    def get_parent(self, entity: Agency | Vendor | Technology) -> dict | None:
        if entity.parent_id is None:
            return None
        return EntityRefSerializer(entity.parent, context=self.context).data

    def get_events_url(self, entity: Agency | Vendor | Technology) -> str:
        base = absolute(self.context, "api-event-list")
        return f"{base}?{ENTITY_NAMES[type(entity)]}={entity.slug}"

    def get_csv_url(self, entity: Agency | Vendor | Technology) -> str:
        return absolute(self.context, f"{ENTITY_NAMES[type(entity)]}-events-csv", entity.slug)


class EntityDetailMixin(serializers.Serializer):
    children = serializers.SerializerMethodField()

    @extend_schema_field(EntityRefSerializer(many=True))
    def get_children(self, entity: Agency | Vendor | Technology) -> list:
        children = sorted(entity.children.all(), key=lambda child: (child.name, child.pk))
        return EntityRefSerializer(children, many=True, context=self.context).data


class AgencySerializer(EntitySerializer):
    acronym = serializers.CharField()
    level = serializers.CharField()


class AgencyDetailSerializer(EntityDetailMixin, AgencySerializer):
    agency_type = serializers.CharField()
    country = serializers.CharField()
    state = serializers.CharField()
    place = serializers.CharField()
    description = serializers.CharField()
    toptier_code = serializers.CharField(help_text="USAspending toptier code.")
    subtier_code = serializers.CharField(help_text="USAspending subtier code.")
    fpds_id = serializers.CharField(help_text="FPDS agency id.")
    aliases = serializers.SerializerMethodField(help_text="Other names, as sources spell them.")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_aliases(self, agency: Agency) -> list[str]:
        return sorted(alias.name for alias in agency.aliases.all())


class VendorSerializer(EntitySerializer):
    pass


class VendorAliasSerializer(serializers.Serializer):
    name = serializers.CharField()
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)


class VendorDetailSerializer(EntityDetailMixin, VendorSerializer):
    uei = serializers.CharField(allow_null=True)
    duns = serializers.CharField(allow_null=True)
    cage = serializers.CharField()
    website = serializers.CharField()
    description = serializers.CharField()
    aliases = VendorAliasSerializer(many=True, source="aliases.all")


class TechnologySerializer(EntitySerializer):
    pass


class TechnologyDetailSerializer(EntityDetailMixin, TechnologySerializer):
    description = serializers.CharField()
    atlas_category = serializers.CharField(help_text="EFF Atlas of Surveillance category.")


class LastRunSerializer(serializers.Serializer):
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    pages = serializers.IntegerField()
    inserted = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    message = serializers.CharField()


class SourceStatusSerializer(serializers.Serializer):
    """A source: how many records it gave and how its last scrape went."""

    name = serializers.CharField()
    records = serializers.IntegerField()
    last_run = LastRunSerializer(allow_null=True)


@extend_schema_serializer(many=False)
class SourceListSerializer(serializers.Serializer):
    """Every source (a short list, never paged)."""

    count = serializers.IntegerField()
    results = SourceStatusSerializer(many=True)
