"""Alert pages: subscribe to a search or entity, confirm, manage by link, one-click unsubscribe."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tracker.alerts import services
from tracker.alerts.describe import entity_names, filters_describe, filters_describe_many
from tracker.alerts.forms import FrequencyForm, ManageLinkForm, SubscribeForm
from tracker.alerts.matching import entity_paths, stored_filters
from tracker.alerts.models import AlertSubscriber
from tracker.alerts.tokens import (
    BadToken,
    confirm_token_check,
    manage_token,
    manage_token_check,
    unsubscribe_token_check,
    unsubscribe_token_gone,
)
from tracker.security import client_address
from tracker.selectors import EventFilters, filters_resolve

log = logging.getLogger(__name__)
View = Callable[..., HttpResponse]


def private(view: View) -> View:
    """Pages reached through a secret link: never cached, indexed or leaked by Referer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = never_cache(view)(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _notice(
    request: HttpRequest, title: str, text: str, *, status: int = 200, **extra
) -> HttpResponse:
    context = {"title": title, "text": text, **extra}
    return render(request, "alerts/notice.html", context, status=status)


def _too_many(request: HttpRequest) -> HttpResponse:
    response = _notice(
        request, "Too many requests", "Please wait an hour before trying again.", status=429
    )
    response["Retry-After"] = "3600"
    return response


def _send_failed(request: HttpRequest) -> HttpResponse:
    log.exception("alerts: could not send an email")
    return _notice(
        request,
        "We could not send the email",
        "Our mail server did not answer. Nothing was lost; please try again in a few minutes.",
        status=503,
    )


def _bad_link(request: HttpRequest) -> HttpResponse:
    return _notice(
        request,
        "This link does not work",
        "It may be mistyped, expired (confirmation links last three days) or replaced by a newer "
        "link. You can subscribe again or ask for a new link to manage your alerts.",
        status=400,
        show_manage_request=True,
    )


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """"Alert me about this search": the form, prefilled with the timeline's filters."""
    filters = filters_resolve(EventFilters.from_params(request.GET))
    if request.method == "POST":
        if services.client_rate_limited(client_address(request)):
            return _too_many(request)
        form = SubscribeForm(request.POST, query=request.GET)
        if form.is_valid():
            try:
                services.subscription_request(
                    email=form.cleaned_data["email"],
                    filters=form.cleaned_data["filters"],
                    frequency=form.cleaned_data["frequency"],
                )
            except OSError:
                return _send_failed(request)
            return _see_other(reverse("alerts-subscribe-sent"))
    else:
        form = SubscribeForm(query=request.GET)
    context = {
        "form": form,
        "filters": filters,
        "description": filters_describe(filters, entity_names([filters])),
        "query": request.GET.urlencode(),  # as asked: a filter that cannot be used is refused
    }
    return render(request, "alerts/subscribe.html", context)


def subscribe_sent(request: HttpRequest) -> HttpResponse:
    """The same answer for every valid request, so it reveals nothing about the address."""
    return _notice(
        request,
        "Check your inbox",
        "We have sent an email to that address. Follow the link in it to confirm your alert; "
        "until then we send nothing else. The link works for three days.",
    )


@private
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners prefetch links); POST confirms."""
    try:
        subscription = confirm_token_check(token)
    except BadToken:
        return _bad_link(request)
    if request.method == "POST":
        services.subscription_confirm(subscription, now=timezone.now())
    if subscription.confirmed_at is not None:
        manage_url = reverse("alerts-manage", args=[manage_token(subscription.subscriber)])
        return _notice(
            request,
            "Your alert is on",
            f"You will receive {subscription.get_frequency_display()} about: "
            f"{subscription.label or 'all new events'}.",
            link=manage_url,
            link_text="Manage your alerts",
        )
    return render(request, "alerts/confirm.html", {"subscription": subscription})


def _manage_rows(subscriber: AlertSubscriber) -> list[dict]:
    subscriptions = list(subscriber.subscriptions.all())
    paths = entity_paths(s.params for s in subscriptions)
    parsed = [stored_filters(s.params, paths) for s in subscriptions]
    descriptions = filters_describe_many([f for f in parsed if f is not None])
    rows = []
    for subscription, filters in zip(subscriptions, parsed, strict=True):
        gone = filters is None
        rows.append({
            "subscription": subscription,
            "description": subscription.label if gone else descriptions.pop(0),
            "gone": gone,
            "frequency_form": FrequencyForm(initial={"frequency": subscription.frequency},
                                            auto_id=f"id_%s_{subscription.pk}"),
            "query": urlencode(subscription.params, doseq=True),
        })
    return rows


def _manage_action(request: HttpRequest, subscriber: AlertSubscriber) -> HttpResponse | None:
    """Apply one POSTed action; a response when the page cannot simply be shown again."""
    action = request.POST.get("action", "")
    if action == "reset":
        try:
            services.subscriber_reset_links(subscriber)
        except OSError:
            return _send_failed(request)
        return _notice(request, "New link sent", "Every older link to your alerts stopped working. "
                       "We emailed you a new one.")
    pk = request.POST.get("subscription", "")
    subscription = subscriber.subscriptions.filter(pk=int(pk)).first() if pk.isdigit() else None
    if subscription is None:
        return None
    now = timezone.now()
    if action == "frequency":
        form = FrequencyForm(request.POST)
        if form.is_valid():
            frequency = form.cleaned_data["frequency"]
            services.subscription_set_frequency(subscription, frequency=frequency)
    elif action == "pause":
        services.subscription_pause(subscription, now=now)
    elif action == "resume":
        services.subscription_resume(subscription, now=now)
    elif action == "delete" and services.subscription_delete(subscription):
        return _notice(request, "All your alerts are deleted",
                       "We have forgotten your address. You can subscribe again at any time.")
    return None


@private
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """The alerts of one address: change frequency, pause, resume, delete."""
    try:
        subscriber = manage_token_check(token)
    except BadToken:
        return _bad_link(request)
    if request.method == "POST":
        response = _manage_action(request, subscriber)
        return response or _see_other(request.path)
    context = {"subscriber": subscriber, "rows": _manage_rows(subscriber)}
    return render(request, "alerts/manage.html", context)


@require_http_methods(["GET", "POST"])
def manage_request(request: HttpRequest) -> HttpResponse:
    """Lost the link? Enter the address; the answer is the same whether or not it is known."""
    if request.method == "POST":
        if services.client_rate_limited(client_address(request)):
            return _too_many(request)
        form = ManageLinkForm(request.POST)
        if form.is_valid():
            try:
                services.manage_link_request(email=form.cleaned_data["email"])
            except OSError:
                return _send_failed(request)
            return _notice(request, "Check your inbox", "If that address has alerts, we have "
                           "emailed it a link to manage them.")
    else:
        form = ManageLinkForm()
    return render(request, "alerts/manage_request.html", {"form": form})


@private
@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" without a cookie.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (scanners prefetch links); POST, from our button or one-click, unsubscribes."""
    try:
        subscription = unsubscribe_token_check(token)
    except BadToken:
        if unsubscribe_token_gone(token):
            return _notice(request, "You are unsubscribed", "This alert no longer exists.")
        return _bad_link(request)
    if request.method == "POST":
        services.subscription_delete(subscription)
        return _notice(request, "You are unsubscribed", "We will not send this alert again.")
    return render(request, "alerts/unsubscribe.html", {"subscription": subscription})
