from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.cui import validate_cui
from billing.models import BillingDetails, Currency, Interval
from logicnet.forms import CountryField

DETAIL_FIELDS = [
    "legal_name",
    "vat_id",
    "registration_number",
    "address",
    "city",
    "county",
    "postal_code",
    "country",
    "email",
]


class BillingDetailsForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    vat_id = forms.CharField(
        label=_("VAT identifier (CUI)"),
        max_length=16,
        required=False,
        help_text=_("With or without RO, for example RO18547290."),
    )
    registration_number = forms.CharField(label=_("Trade register number"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    county = forms.CharField(label=_("County"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16, required=False)
    country = CountryField(label=_("Country"), initial="RO")
    email = forms.EmailField(label=_("Billing email"), required=False)

    def clean_vat_id(self) -> str:
        value = self.cleaned_data["vat_id"]
        return validate_cui(value) if value else ""

    @classmethod
    def initial_from(cls, details: BillingDetails | None) -> dict:
        if details is None:
            return {"country": "RO"}
        return {name: getattr(details, name) for name in DETAIL_FIELDS}


class CheckoutForm(forms.Form):
    plan = forms.SlugField()
    interval = forms.ChoiceField(choices=Interval.choices)
    currency = forms.ChoiceField(choices=Currency.choices)
