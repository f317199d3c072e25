"""The form of the public privacy page (/p/<org_slug>/privacy/): it validates and
normalises; `privacy.services.requests.submit_request` stores the request."""

from __future__ import annotations

import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.forms import validate_phone
from logicnet.honeypot import HoneypotForm
from privacy.models import Right

OBJECTION_MARKETING = "marketing"
OBJECTION_OTHER = "other"

MESSAGE_MAX_LENGTH = 5000
CORRECTION_MAX_LENGTH = 2000


def new_submission_nonce() -> str:
    return secrets.token_urlsafe(18)


class PublicSubmissionForm(HoneypotForm):
    """A public form that creates a request: the honeypot, and a nonce per page load (the
    view lets each one create at most one request)."""

    submission = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        if not self.is_bound:
            self.initial.setdefault("submission", new_submission_nonce())


class PublicRequestForm(PublicSubmissionForm):
    """One data-subject request: which rights, who asks (an email address, confirmed by a
    link), and what the person wants to say. Identity documents are never asked for here
    (GDPR Art. 12(6): only on reasonable doubt, and proportionate)."""

    rights = forms.MultipleChoiceField(
        label=_("What do you ask for?"),
        choices=Right.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose one or more."),
        error_messages={"required": _("Choose at least one right.")},
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We send a link to this address; your request goes ahead once you open it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        help_text=_("It helps to find your data if the organization knows you by phone."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    message = forms.CharField(
        label=_("Anything you want to add (optional)"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    correction = forms.CharField(
        label=_("For rectification: what is wrong, and what should it say?"),
        max_length=CORRECTION_MAX_LENGTH,
        required=False,
        help_text=_("Required when you ask for rectification."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    objection_scope = forms.ChoiceField(
        label=_("For objection: what do you object to?"),
        required=False,
        choices=[
            (OBJECTION_MARKETING, _("Direct marketing (it stops as soon as you confirm your email)")),
            (OBJECTION_OTHER, _("Other processing (the organization decides, and tells you its reasons)")),
        ],
        widget=forms.RadioSelect,
    )

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data.get("phone") or "", self.organization.country)

    def clean(self):
        data = super().clean()
        rights = data.get("rights") or []
        # A field already in error (too long, an unknown choice) is not also called missing.
        if Right.RECTIFICATION in rights and "correction" not in self.errors and not data.get("correction"):
            self.add_error("correction", _("Say what should be corrected, and to what."))
        if Right.OBJECTION in rights and "objection_scope" not in self.errors and not data.get("objection_scope"):
            self.add_error("objection_scope", _("Choose what you object to."))
        return data

    def service_data(self) -> dict:
        """Keyword arguments for `submit_request` (without organization and language)."""
        data = self.cleaned_data
        rights = list(data["rights"])
        return {
            "rights": rights,
            "email": data["email"],
            "phone": data.get("phone") or "",
            "message": data.get("message") or "",
            "correction": (data.get("correction") or "") if Right.RECTIFICATION in rights else "",
            "objects_to_marketing": Right.OBJECTION in rights and data.get("objection_scope") == OBJECTION_MARKETING,
        }


class ChildDataReportForm(PublicSubmissionForm):
    """A report that the organization holds a child's data (GDPR Art. 8: a child under 16
    cannot consent alone; Art. 17(1)(f): such data is erased on request). Anyone may send it,
    usually a parent; it becomes an erasure request the desk handles first."""

    RELATIONSHIPS = [
        ("parent", _("I am the child's parent or guardian")),
        ("child", _("I am the child")),
        ("other", _("Other")),
    ]

    relationship = forms.ChoiceField(label=_("Who are you?"), choices=RELATIONSHIPS, widget=forms.RadioSelect)
    details = forms.CharField(
        label=_("About the child's data"),
        max_length=MESSAGE_MAX_LENGTH,
        help_text=_(
            "How the organization may know the child (a name, an email address or a phone number) "
            "and what you saw. Write only what is needed to find the data."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We send a link to this address; the report goes ahead once you open it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def service_data(self) -> dict:
        """Keyword arguments for `submit_request`: an erasure request, flagged priority, whose
        message says who reported what."""
        data = self.cleaned_data
        relationship = dict(self.RELATIONSHIPS)[data["relationship"]]
        heading = _("Report of a child's data")
        message = f"{heading}. {relationship}.\n\n{data['details']}"
        return {"rights": [Right.ERASURE], "email": data["email"], "message": message, "priority": True}


class ConfirmationCodeForm(forms.Form):
    """The code from the confirmation mail, typed on the page the request was sent from."""

    code = forms.CharField(
        label=_("Code from the email"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("Eight digits, for example 1234-5678."),
    )
