"""The admin's "add from a link" page (paste a URL or text, check the suggestions, confirm) and
the queue of organisations that news and documents name but the database does not know."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from tracker.models import Agency, Event, OrganisationProposal, Technology, Vendor
from tracker.services.curation import ExtractionError, event_create_from_link, link_extract
from tracker.services.organisations import proposal_accept, proposals_dismiss


class LinkForm(forms.Form):
    url = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=2000,
        help_text="An article, press release or document page.",
    )
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="…or paste the text itself.",
    )

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("url") and not data.get("text", "").strip():
            raise forms.ValidationError("Paste a link or some text.")
        return data


class ConfirmForm(forms.Form):
    title = forms.CharField(max_length=500)
    date = forms.DateField(required=False, help_text="YYYY-MM-DD")
    kind = forms.ChoiceField(choices=Event.Kind.choices)
    url = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8}))
    agencies = forms.ModelMultipleChoiceField(
        Agency.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    vendors = forms.ModelMultipleChoiceField(
        Vendor.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    technologies = forms.ModelMultipleChoiceField(
        Technology.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, suggested: dict[str, list[int]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, model in (
            ("agencies", Agency),
            ("vendors", Vendor),
            ("technologies", Technology),
        ):
            self.fields[name].queryset = model.objects.filter(pk__in=suggested.get(name, []))


def _suggested(request: HttpRequest) -> dict[str, list[int]]:
    return {
        name: [int(pk) for pk in request.POST.getlist(f"suggested_{name}") if pk.isdigit()]
        for name in ("agencies", "vendors", "technologies")
    }


def add_from_link(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Step 1 extracts and suggests; step 2 (``confirm``) creates the event."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Event._meta,
        "title": "Add an event from a link",
    }
    if request.method == "POST" and "confirm" in request.POST:
        suggested = _suggested(request)
        form = ConfirmForm(request.POST, suggested=suggested)
        if form.is_valid():
            data = form.cleaned_data
            event = event_create_from_link(
                title=data["title"],
                date=data["date"],
                text=data["text"],
                url=data["url"],
                kind=data["kind"],
                agency_ids=[a.pk for a in data["agencies"]],
                vendor_ids=[v.pk for v in data["vendors"]],
                technology_ids=[t.pk for t in data["technologies"]],
            )
            messages.success(request, f"Created “{event.title}”.")
            return HttpResponseRedirect(reverse("admin:tracker_event_change", args=[event.pk]))
        return TemplateResponse(
            request,
            "admin/tracker/event/add_from_link.html",
            {**context, "confirm": form, "suggested": suggested},
        )
    form = LinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            found = link_extract(url=form.cleaned_data["url"], text=form.cleaned_data["text"])
        except ExtractionError as exc:
            form.add_error(None, f"Could not read that: {exc}")
        else:
            suggested = {
                "agencies": found.agency_ids,
                "vendors": found.vendor_ids,
                "technologies": found.technology_ids,
            }
            confirm = ConfirmForm(
                initial={
                    "title": found.title,
                    "date": found.date,
                    "kind": found.kind,
                    "url": found.url,
                    "text": found.text,
                    **suggested,
                },
                suggested=suggested,
            )
            return TemplateResponse(
                request,
                "admin/tracker/event/add_from_link.html",
                {**context, "confirm": confirm, "suggested": suggested},
            )
    return TemplateResponse(
        request, "admin/tracker/event/add_from_link.html", {**context, "form": form}
    )


@admin.register(OrganisationProposal)
class OrganisationProposalAdmin(admin.ModelAdmin):
    """Organisations named in news and documents that match no vendor: make one, or dismiss."""

    list_display = ["name", "status", "times_seen", "first_event", "vendor", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["name", "normalized", "snippet"]
    readonly_fields = ["normalized", "first_event", "events", "snippet", "times_seen", "vendor"]
    actions = ["create_vendor", "dismiss"]

    @admin.action(description="Create vendor and link it to the events that name it")
    def create_vendor(self, request: HttpRequest, queryset: QuerySet) -> None:
        open_proposals = queryset.filter(status=OrganisationProposal.Status.OPEN)
        vendors = [proposal_accept(proposal) for proposal in open_proposals]
        self.message_user(request, f"Created or linked {len(vendors)} vendor(s).", messages.SUCCESS)

    @admin.action(description="Dismiss: not a vendor (never proposed again)")
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> None:
        dismissed = proposals_dismiss(queryset)
        self.message_user(request, f"Dismissed {dismissed} proposal(s).", messages.SUCCESS)
