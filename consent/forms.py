"""Forms of the consent pages: they validate and normalise; the services store."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentRecord
from consent.services.ledger import NOTICE_MAX_LENGTH
from logicnet.honeypot import HoneypotForm


class PurposeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("For example: Newsletter"))
    key = forms.SlugField(
        label=_("Key"),
        max_length=50,
        help_text=_("Lowercase letters, digits and hyphens; part of the sign-up form's address. It cannot change."),
    )
    notice_text = forms.CharField(
        label=_("Notice text (version 1)"),
        max_length=NOTICE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What people agree to: what you will send, how often, and that they can withdraw at any time."),
    )

    def clean_key(self) -> str:
        return self.cleaned_data["key"].lower()


class NoticeForm(forms.Form):
    text = forms.CharField(
        label=_("New notice text"),
        max_length=NOTICE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Publishing makes a new version; consent already given stays given to the version the person saw."),
    )


class StaffConsentForm(forms.Form):
    purpose = forms.TypedChoiceField(label=_("Purpose"), coerce=int)
    action = forms.ChoiceField(label=_("Consent"), choices=ConsentRecord.Action.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note (how the person told you)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: asked by phone on 3 March. Required: it is the evidence."),
    )

    def __init__(self, *args, purposes, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.purposes = {purpose.pk: purpose for purpose in purposes}
        self.fields["purpose"].choices = [(purpose.pk, purpose.name) for purpose in purposes]

    def clean_purpose(self):
        return self.purposes[self.cleaned_data["purpose"]]


class ExportForm(forms.Form):
    date_from = forms.DateField(
        label=_("From (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    purpose = forms.TypedChoiceField(label=_("Purpose"), coerce=int, required=False, empty_value=None)
    version = forms.IntegerField(label=_("Notice version"), required=False, min_value=1)

    def __init__(self, *args, purposes, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.purposes = {purpose.pk: purpose for purpose in purposes}
        self.fields["purpose"].choices = [("", _("All purposes"))] + [(p.pk, p.name) for p in purposes]

    def clean(self):
        data = super().clean()
        if data.get("purpose"):
            data["purpose"] = self.purposes[data["purpose"]]
        if data.get("version") and not data.get("purpose"):
            self.add_error("version", _("Choose the purpose whose notice version you mean."))
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end is before the start."))
        return data


class SignupForm(HoneypotForm):
    """The public sign-up form (hosted, or pasted into the organization's website)."""

    email = forms.EmailField(
        label=_("Your email address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    first_name = forms.CharField(
        label=_("Your first name (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput)
    notice = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
