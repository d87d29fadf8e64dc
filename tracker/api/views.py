"""The read-only JSON API: thin views over ``event_search`` and the entity tables."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import HttpRequest, JsonResponse
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.api import serializers as out
from tracker.api.pagination import MAX_ID, EntityPagination, EventCursorPagination
from tracker.api.query import event_list, event_query
from tracker.api.schema import ApiSchema, EntitySchema, EventSchema, SourceSchema
from tracker.api.throttling import ApiRateThrottle
from tracker.exports import event_outcome_message
from tracker.models import (
    Agency,
    AgencyAlias,
    Event,
    ScrapeRun,
    SourceRecord,
    Technology,
    Vendor,
    VendorAlias,
)
from tracker.selectors import BadFilter, events_with_links
from tracker.services.outcomes import PITCH_KINDS

MAX_TEXT = 200


class ReadOnlyApi:
    """Shared policy: anonymous, read-only (GET/HEAD/OPTIONS), throttled, JSON first."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ApiRateThrottle,)
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer)
    http_method_names = ("get", "head", "options")
    schema = ApiSchema()


def clean_text(request: Request, name: str) -> str:
    """One query parameter, stripped of NUL bytes and cut to a sane length."""
    return request.query_params.get(name, "").replace("\x00", "").strip()[:MAX_TEXT]


class EventViewSet(ReadOnlyApi, viewsets.GenericViewSet):
    """Events, filtered exactly like the timeline (the same parameters mean the same thing).

    A filter that cannot be used (an unknown slug or kind, an impossible date or
    ``updated_since``, a malformed amount or cursor) is a 400 with ``{"detail": "<one line>"}``,
    never a broader list. ``count`` is capped at 10,000 like the timeline's (``count_capped``).
    To sync: ``?updated_since=<when your last sync started>&order=updated``, follow ``next``.
    """

    schema = EventSchema()

    serializer_class = out.EventSerializer
    pagination_class = EventCursorPagination
    lookup_value_regex = "[0-9]+"
    queryset = Event.objects.all()

    def list(self, request: Request) -> Response:
        try:
            query = event_query(request.query_params)
        except BadFilter as error:
            raise ParseError(str(error)) from error
        warnings: list[str] = []
        found = event_list(query)
        page = self.paginator.paginate(
            events_with_links(found.events), query.order, request, warnings,
            counted=found.countable,
        )
        data = self.get_serializer(page, many=True).data
        return self.paginator.get_paginated_response(data, warnings)

    def retrieve(self, request: Request, pk: str) -> Response:
        found = Event.objects.filter(pk=int(pk)) if int(pk) <= MAX_ID else Event.objects.none()
        event = events_with_links(found).first()
        if event is None:
            raise NotFound("No event with that id.")
        outcome = event_outcome_message(event.pk) if event.kind in PITCH_KINDS else None
        context = {**self.get_serializer_context(), "outcome": outcome}
        return Response(out.EventDetailSerializer(event, context=context).data)


class EntityViewSet(ReadOnlyApi, viewsets.ReadOnlyModelViewSet):
    """Shared list/detail for the agency, vendor and technology trees."""

    schema = EntitySchema()

    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    pagination_class = EntityPagination
    detail_serializer: type[serializers.Serializer]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return self.detail_serializer if self.action == "retrieve" else self.serializer_class

    def get_queryset(self) -> QuerySet:
        entities = self.queryset.select_related("parent").order_by("name", "id")
        if self.action == "retrieve":
            entities = entities.prefetch_related("children", *self.detail_prefetch)
        return entities

    def search(self, text: str) -> Q:
        return Q(name__icontains=text)

    def filter_list(self, entities: QuerySet, warnings: list[str]) -> QuerySet:
        name = self.queryset.model._meta.verbose_name
        parent = clean_text(self.request, "parent").lower()
        if parent:
            parent_id = self.queryset.filter(slug=parent).values_list("pk", flat=True).first()
            if parent_id is None:
                warnings.append(f"No {name} “{parent[:60]}”; the parent filter was ignored.")
            else:
                entities = entities.filter(parent_id=parent_id)
        text = clean_text(self.request, "q")
        return entities.filter(self.search(text)) if text else entities

    def list(self, request: Request) -> Response:
        warnings: list[str] = []
        entities = self.filter_list(self.get_queryset(), warnings)
        page = self.paginate_queryset(entities)
        return self.paginator.get_paginated_response(
            self.get_serializer(page, many=True).data, warnings
        )


class AgencyViewSet(EntityViewSet):
    """Agencies: departments, their components and state and local agencies."""

    queryset = Agency.objects.all()
    serializer_class = out.AgencySerializer
    detail_serializer = out.AgencyDetailSerializer
    detail_prefetch = ("aliases",)

    def search(self, text: str) -> Q:
        aliases = AgencyAlias.objects.filter(agency=OuterRef("pk"), name__icontains=text)
        return Q(name__icontains=text) | Q(acronym__icontains=text) | Q(Exists(aliases))

    def filter_list(self, entities: QuerySet, warnings: list[str]) -> QuerySet:
        level = clean_text(self.request, "level").lower()
        if level in Agency.Level.values:
            entities = entities.filter(level=level)
        elif level:
            warnings.append(f"Unknown level “{level[:40]}” ignored.")
        return super().filter_list(entities, warnings)


class VendorViewSet(EntityViewSet):
    """Vendors with their corporate families (parents and subsidiaries)."""

    queryset = Vendor.objects.all()
    serializer_class = out.VendorSerializer
    detail_serializer = out.VendorDetailSerializer
    detail_prefetch = (Prefetch("aliases", VendorAlias.objects.order_by("name", "id")),)

    def search(self, text: str) -> Q:
        aliases = VendorAlias.objects.filter(vendor=OuterRef("pk"), name__icontains=text)
        return Q(name__icontains=text) | Q(Exists(aliases))


class TechnologyViewSet(EntityViewSet):
    """The technology taxonomy (biometrics > face recognition …)."""

    queryset = Technology.objects.all()
    serializer_class = out.TechnologySerializer
    detail_serializer = out.TechnologyDetailSerializer
    detail_prefetch = ()


class SourceViewSet(ReadOnlyApi, viewsets.GenericViewSet):
    """The data sources: records held and the status and counts of their last scrape."""

    schema = SourceSchema()

    serializer_class = out.SourceStatusSerializer
    pagination_class = None
    queryset = ScrapeRun.objects.none()

    def list(self, request: Request) -> Response:
        counts = dict(
            SourceRecord.objects.order_by().values_list("source").annotate(records=Count("id"))
        )
        latest = ScrapeRun.objects.filter(source=OuterRef("source")).order_by("-started_at", "-id")
        runs = {
            run.source: run
            for run in ScrapeRun.objects.filter(pk=Subquery(latest.values("pk")[:1]))
        }
        rows = [
            {"name": name, "records": counts.get(name, 0), "last_run": runs.get(name)}
            for name in sorted(counts.keys() | runs.keys())
        ]
        return Response({"count": len(rows), "results": self.get_serializer(rows, many=True).data})


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """A JSON 404 for any address under /api/ that is not an endpoint."""
    return JsonResponse({"detail": "Not found. See /api/v1/ for the endpoints."}, status=404)
