from __future__ import annotations

import phonenumbers
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from logicnet import normalize
from logicnet.forms import CountryField
from logicnet.tenancy.roles import Role


def validate_phone(value: str, country: str | None = None, *, require_valid: bool = True) -> str:
    """The number as typed (stripped), after checking it; services store it in E.164
    (logicnet/normalize.py). Raises ValidationError with a clear message."""
    value = value.strip()
    try:
        normalize.to_e164(value, country, require_valid=require_valid)
    except normalize.InvalidPhoneNumber as exc:
        if exc.code == "unparsable":
            raise forms.ValidationError(_("Enter a phone number, for example +40 721 234 567.")) from None
        raise forms.ValidationError(_("This phone number is not valid.")) from None
    return value


class SignupForm(forms.Form):
    """The extra sign-up fields (allauth's ACCOUNT_SIGNUP_FORM_CLASS)."""

    field_order = ["full_name", "email", "password1", "password2", "company_name", "phone", "confirm_age"]

    full_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if you are joining a team that invited you."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
    )
    confirm_age = forms.BooleanField(
        label=_("I am at least 16 years old and accept the privacy policy."),
        error_messages={"required": _("You must be at least 16 and accept the privacy policy to sign up.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Signing up from an invitation link: the account is for the invited address, shown
        # and fixed (a disabled field takes its value from here, never from the POST), so
        # that after confirming it the invitee can accept. allauth builds this form without
        # the request; its context holds it.
        self.invitation = _pending_invitation(allauth_context.request)
        # Django's form templates render help text unescaped: the link is built here, escaped.
        self.fields["confirm_age"].help_text = format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("privacy_policy"),
            _("Read the privacy policy"),
        )
        if self.invitation is not None and "email" in self.fields:
            self.initial["email"] = self.invitation.email
            email = self.fields["email"]
            email.disabled = True
            email.help_text = _("The address your invitation was sent to.")

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data["phone"])

    def clean_company_name(self) -> str:
        name = " ".join(self.cleaned_data["company_name"].split())
        # Someone following an invitation link joins that organization; everyone else
        # signs up to create their own.
        invited = self.invitation is not None or str(self.data.get("next", "")).startswith("/invitations/")
        if not name and not invited:
            raise forms.ValidationError(_("Enter your company's name."))
        return name

    def signup(self, request, user) -> None:
        from accounts.services import complete_signup
        from logicnet.audit.services import client_ip

        complete_signup(
            user=user,
            full_name=self.cleaned_data["full_name"],
            phone=self.cleaned_data["phone"],
            company_name=self.cleaned_data["company_name"],
            ip_address=client_ip(request),
        )


def _pending_invitation(request):
    from accounts.adapter import PENDING_INVITATION_SESSION_KEY
    from accounts.selectors import pending_invitation_for_token

    session = getattr(request, "session", None)
    token = session.get(PENDING_INVITATION_SESSION_KEY) if session is not None else None
    return pending_invitation_for_token(token) if token else None


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = CountryField(
        label=_("Default country for phone numbers"),
        codes=phonenumbers.SUPPORTED_REGIONS,
    )
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor authentication for every member"), required=False
    )


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)


class AccountDetailsForm(forms.Form):
    """Correct my data (GDPR Art. 16). The email address has allauth's own page."""

    full_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language of the mail we send you"), choices=settings.LANGUAGES)

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        return validate_phone(phone) if phone else ""


class AccountDeletionForm(forms.Form):
    confirmation = forms.CharField(
        label=_("Type your email address or your password to confirm"),
        max_length=254,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
