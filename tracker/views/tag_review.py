"""Curators' buttons on the event page (and the admin's event form): confirm or reject a
technology tag, or allow a rejected one again. Staff only, POST only, then back."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tracker.models import Event, EventTechnology, Technology
from tracker.services.tag_review import tag_confirm, tag_reject, tag_unreject


def _back(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """To ``next`` when it is a page of this site, else to the event's technologies."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("event-detail", args=[pk]) + "#tech-h")


def _review(action: Callable[[Event, Technology, HttpRequest], str]) -> Callable:
    @staff_member_required
    @require_POST
    def view(request: HttpRequest, pk: int, technology: int) -> HttpResponse:
        event = get_object_or_404(Event, pk=pk)
        tech = get_object_or_404(Technology, pk=technology)
        messages.success(request, action(event, tech, request))
        return _back(request, pk)

    return view


def _confirm(event: Event, technology: Technology, request: HttpRequest) -> str:
    try:
        tag_confirm(event.pk, technology.pk)
    except EventTechnology.DoesNotExist:
        raise Http404("This event is not tagged with that technology.") from None
    return f"Confirmed: {technology.name}."


def _reject(event: Event, technology: Technology, request: HttpRequest) -> str:
    tag_reject(event.pk, technology.pk, note=request.POST.get("note", "").strip())
    return f"Rejected: {technology.name} (retagging will not add it back)."


def _unreject(event: Event, technology: Technology, request: HttpRequest) -> str:
    tag_unreject(event.pk, technology.pk)
    return f"{technology.name} is allowed again (the next retag may add it)."


confirm = _review(_confirm)
reject = _review(_reject)
unreject = _review(_unreject)
