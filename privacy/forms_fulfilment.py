"""The rectification form: the fields a person most often asks to correct, beside what the
person proposed. Only the fields staff change are passed to the contact services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.forms import validate_phone

CORRECTABLE = ("first_name", "last_name", "email", "phone", "job_title")


class RectificationForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email address"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)

    def __init__(self, *args, contact, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.organization = organization
        if not self.is_bound:
            self.initial.update({name: getattr(contact, name) for name in CORRECTABLE})

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data["phone"], self.organization.country)

    def changes(self) -> dict:
        """{field: new value} for the fields that differ from the contact's current values."""
        return {
            name: self.cleaned_data[name]
            for name in CORRECTABLE
            if (self.cleaned_data.get(name) or "") != (getattr(self.contact, name) or "")
        }
