"""Curation admin: every model, the vendor "merge into…" action and the review queues."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from tracker.curation_admin import add_from_link
from tracker.models import (
    Agency,
    AgencyAlias,
    AlertMessage,
    AlertSubscription,
    Council,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    NewsFeed,
    Product,
    ScrapeRun,
    SourceRecord,
    TaggingRule,
    TagRejection,
    Technology,
    Vendor,
    VendorAlias,
    VendorMatchFlag,
)
from tracker.services.entities import vendor_merge
from tracker.services.health import sources_health
from tracker.services.tag_review import tag_confirm, tag_explanation, tag_reject, tag_unreject

admin.site.site_header = "Spyglass curation"
admin.site.site_title = "Spyglass admin"


class AgencyAliasInline(admin.TabularInline):
    model = AgencyAlias
    extra = 1
    fields = ["name"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "acronym",
        "parent",
        "level",
        "toptier_code",
        "subtier_code",
        "needs_review",
    ]
    list_filter = ["level", "needs_review", "state"]
    search_fields = ["name", "acronym", "aliases__name", "subtier_code", "toptier_code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    inlines = [AgencyAliasInline]
    actions = ["mark_reviewed"]

    @admin.action(description="Mark selected agencies as reviewed")
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(needs_review=False)


class VendorAliasInline(admin.TabularInline):
    model = VendorAlias
    extra = 1
    fields = ["name", "valid_from", "valid_until"]


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Vendor.objects.all(), label="Merge into")


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "uei", "duns", "needs_review"]
    list_filter = ["needs_review"]
    search_fields = ["name", "aliases__name", "uei", "duns", "cage"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "normalized"]
    inlines = [VendorAliasInline]
    actions = ["merge_into", "mark_reviewed"]

    @admin.action(description="Merge selected vendors into…")
    def merge_into(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = MergeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            target = form.cleaned_data["target"]
            merged = 0
            for vendor in queryset.exclude(pk=target.pk):
                try:
                    vendor_merge(source=vendor, target=target)
                    merged += 1
                except ValueError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
            self.message_user(
                request, f"Merged {merged} vendor(s) into {target}.", messages.SUCCESS
            )
            return None
        return TemplateResponse(
            request,
            "admin/tracker/vendor/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge vendors",
                "vendors": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Mark selected vendors as reviewed")
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(needs_review=False)


@admin.register(VendorMatchFlag)
class VendorMatchFlagAdmin(admin.ModelAdmin):
    """The review queue of near-identical vendor names."""

    list_display = ["vendor", "candidate", "score", "reason", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["vendor__name", "candidate__name"]
    raw_id_fields = ["vendor", "candidate"]
    actions = ["merge_vendor_into_candidate", "dismiss"]

    @admin.action(description="Merge each flagged vendor into its candidate")
    def merge_vendor_into_candidate(self, request: HttpRequest, queryset: QuerySet) -> None:
        merged = 0
        for flag in queryset.filter(status=VendorMatchFlag.Status.OPEN).select_related(
            "vendor", "candidate"
        ):
            vendor_merge(source=flag.vendor, target=flag.candidate)
            merged += 1
        self.message_user(request, f"Merged {merged} vendor(s).", messages.SUCCESS)

    @admin.action(description="Dismiss: these are different companies")
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(status=VendorMatchFlag.Status.DISMISSED)


class TaggingRuleInline(admin.TabularInline):
    model = TaggingRule
    extra = 1
    fields = ["kind", "value", "strength", "vendor", "search_term", "active", "note"]
    autocomplete_fields = ["vendor"]


@admin.register(Technology)
class TechnologyAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "atlas_category"]
    search_fields = ["name", "atlas_category"]
    readonly_fields = ["path"]
    inlines = [TaggingRuleInline]


@admin.register(TaggingRule)
class TaggingRuleAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "strength", "technology", "vendor", "search_term", "active"]
    list_filter = ["kind", "strength", "active", "search_term", "technology"]
    search_fields = ["value", "note", "vendor__name"]
    autocomplete_fields = ["vendor"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "technology", "strength"]
    list_filter = ["strength", "technology"]
    search_fields = ["name", "vendor__name"]
    autocomplete_fields = ["vendor"]


class EventAgencyInline(admin.TabularInline):
    model = EventAgency
    extra = 0
    autocomplete_fields = ["agency"]


class EventVendorInline(admin.TabularInline):
    model = EventVendor
    extra = 0
    autocomplete_fields = ["vendor"]


@admin.display(description="why")
def tag_why(link: EventTechnology) -> str:
    return tag_explanation(link.evidence or [], link.tagged_by)


class EventTechnologyInline(admin.TabularInline):
    model = EventTechnology
    extra = 0
    fields = ["technology", "tagged_by", "rule", tag_why, "review"]
    readonly_fields = ["rule", tag_why, "review"]

    @admin.display(description="review")
    def review(self, link: EventTechnology) -> str:
        """Buttons that post the event form to the event page's confirm / reject views (which
        only read the CSRF token and ``next``), then come back here."""
        if link.pk is None:
            return "-"
        back = reverse("admin:tracker_event_change", args=[link.event_id])
        return format_html(
            '<button type="submit" formaction="{}" formmethod="post" name="next" value="{}">'
            "Confirm</button> "
            '<button type="submit" formaction="{}" formmethod="post" name="next" value="{}">'
            "Reject</button>",
            reverse("tag-confirm", args=[link.event_id, link.technology_id]),
            back,
            reverse("tag-reject", args=[link.event_id, link.technology_id]),
            back,
        )


class SourceRecordInline(admin.StackedInline):
    model = SourceRecord
    extra = 0
    fields = ["source", "external_id", "url", "retrieved_at", "raw"]
    readonly_fields = ["source", "external_id", "retrieved_at", "raw"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "title", "amount", "review_state"]
    list_filter = ["review_state", "kind", "date_precision", "sources__source"]
    search_fields = ["title", "summary", "sources__external_id"]
    date_hierarchy = "date"
    readonly_fields = ["match_key", "created_at", "updated_at"]
    inlines = [EventAgencyInline, EventVendorInline, EventTechnologyInline, SourceRecordInline]
    actions = ["mark_verified"]
    list_per_page = 50

    def get_urls(self) -> list:
        return [
            path(
                "add-from-link/",
                self.admin_site.admin_view(lambda request: add_from_link(self, request)),
                name="tracker_event_add_from_link",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Mark selected events as verified")
    def mark_verified(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(review_state=Event.Review.VERIFIED)


@admin.register(EventTechnology)
class EventTechnologyAdmin(admin.ModelAdmin):
    """Every technology tag with why it was made: a queue to confirm or reject them."""

    list_display = ["event", "technology", "tagged_by", tag_why]
    list_filter = ["tagged_by", "technology"]
    search_fields = ["event__title", "technology__name"]
    list_select_related = ["event", "technology"]
    raw_id_fields = ["event", "rule"]
    readonly_fields = [tag_why, "evidence"]
    actions = ["confirm", "reject"]

    @admin.action(description="Confirm the selected tags (a curator's tag, kept on retag)")
    def confirm(self, request: HttpRequest, queryset: QuerySet) -> None:
        for event_id, technology_id in queryset.values_list("event_id", "technology_id"):
            tag_confirm(event_id, technology_id)
        self.message_user(request, "Confirmed the selected tags.", messages.SUCCESS)

    @admin.action(description="Reject the selected tags (retag will not add them back)")
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        for event_id, technology_id in queryset.values_list("event_id", "technology_id"):
            tag_reject(event_id, technology_id)
        self.message_user(request, "Rejected the selected tags.", messages.SUCCESS)


@admin.register(TagRejection)
class TagRejectionAdmin(admin.ModelAdmin):
    """Curators' rejected tags; deleting one allows the technology on that event again."""

    list_display = ["event", "technology", "note", "created_at"]
    list_filter = ["technology"]
    search_fields = ["event__title", "technology__name", "note"]
    list_select_related = ["event", "technology"]
    raw_id_fields = ["event"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by rejecting a tag, which also removes it

    def delete_model(self, request: HttpRequest, obj: TagRejection) -> None:
        tag_unreject(obj.event_id, obj.technology_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for event_id, technology_id in queryset.values_list("event_id", "technology_id"):
            tag_unreject(event_id, technology_id)


@admin.register(ScrapeRun)
class ScrapeRunAdmin(admin.ModelAdmin):
    """Source health: one row per run with its counts and errors."""

    list_display = [
        "source",
        "started_at",
        "finished_at",
        "status",
        "pages",
        "inserted",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "message",
    ]
    list_filter = ["source", "status"]
    readonly_fields = [field.name for field in ScrapeRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        """The runs, headed by a warning for each source health flag (too few, shape, stale)."""
        for flags in sources_health().values():
            for flag in flags:
                messages.warning(request, flag.message)
        return super().changelist_view(request, extra_context)


@admin.register(NewsFeed)
class NewsFeedAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active"]
    list_filter = ["active"]


@admin.register(AlertSubscription)
class AlertSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "frequency", "confirmed_at", "paused_at", "created_at"]
    list_filter = ["frequency"]
    search_fields = ["subscriber__email"]
    readonly_fields = ["subscriber"]


@admin.register(AlertMessage)
class AlertMessageAdmin(admin.ModelAdmin):
    list_display = ["subscription", "status", "created_at", "sent_at"]
    list_filter = ["status"]
    readonly_fields = [field.name for field in AlertMessage._meta.fields]


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "jurisdiction", "police", "token", "active"]
    list_filter = ["active", "jurisdiction__state"]
    search_fields = ["name", "client", "jurisdiction__name", "police__name"]
    autocomplete_fields = ["jurisdiction", "police"]
