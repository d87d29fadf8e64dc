"""Forms for subscribing and asking for the management link."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.validators import EmailValidator

from tracker.alerts.models import AlertSubscription
from tracker.selectors import BadFilter, parse_filters

# Square brackets too: an IP-literal domain (a@[10.0.0.5]) would make our mail server
# connect to any host an attacker names, internal ones included.
FORBIDDEN = set(',;"<>\\[]')


def validate_address(value: str) -> None:
    """Reject what could smuggle a second recipient or a header into an email."""
    if any(char in FORBIDDEN or unicodedata.category(char)[0] in "CZ" for char in value):
        raise forms.ValidationError(
            "Enter one plain email address (no spaces, commas, quotes or line breaks)."
        )


class EmailField(forms.CharField):
    """A single address: Django's EmailValidator plus our stricter character check."""

    default_validators = [EmailValidator(message="Enter a valid email address.")]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault(
            "widget", forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"})
        )
        super().__init__(strip=False, **kwargs)

    def to_python(self, value):  # type: ignore[override]
        value = super().to_python(value)
        return value.strip(" ") if value else value

    def validate(self, value: str) -> None:
        super().validate(value)
        validate_address(value)


class SubscribeForm(forms.Form):
    email = EmailField(label="Your email address")
    frequency = forms.ChoiceField(
        label="How often",
        choices=AlertSubscription.Frequency.choices,
        initial=AlertSubscription.Frequency.DAILY,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, query: Mapping[str, Any], **kwargs: Any) -> None:
        """``query``: the search to alert on (the page's query string)."""
        super().__init__(*args, **kwargs)
        self.query = query

    def clean(self) -> dict[str, Any]:
        """Adds ``filters``; a search with a filter that cannot be used is not saved."""
        cleaned = super().clean() or {}
        try:
            cleaned["filters"] = parse_filters(self.query)
        except BadFilter as error:
            message = f"This search cannot be saved as an alert: {error}"
            raise forms.ValidationError(message) from error
        return cleaned


class ManageLinkForm(forms.Form):
    email = EmailField(label="Your email address")


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(choices=AlertSubscription.Frequency.choices)
