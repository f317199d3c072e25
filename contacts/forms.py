"""Forms of the contact screens: they validate and normalise, the services save."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.custom_fields import definitions_for, field_name, form_fields_for, initial_values
from contacts.models import Company, Contact, CustomField, Label
from contacts.selectors import search_companies
from contacts.services.merge import DUPLICATE, MERGE_LABELS, SURVIVOR
from contacts.services.tags import split_tag_names
from logicnet import normalize
from logicnet.encryption import blind
from logicnet.forms import CountryField
from logicnet.locale_names import language_choices


def _language_choices():
    """Every language by its name in the reader's language, sorted as that language sorts."""
    return language_choices(blank="—")


def validate_phone(value: str, country: str) -> str:
    """The number as typed (stripped), after checking it reads as one; the service layer
    stores it in E.164 (logicnet/normalize.py), so there is one normal form."""
    value = value.strip()
    if not value:
        return ""
    try:
        normalize.to_e164(value, country)
    except normalize.InvalidPhoneNumber as exc:
        if exc.code == "impossible":
            raise forms.ValidationError(_("This phone number has too few or too many digits.")) from None
        raise forms.ValidationError(
            _("Enter a phone number with its country code, for example +40 721 234 567.")
        ) from None
    return value


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ContactForm(forms.Form):
    """One contact's own fields. Company is typed by name (an organization may have
    100,000 companies: no select could list them); when several share the name, the form
    asks which one (`company_candidates`)."""

    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email address"), max_length=254, required=False)
    email_label = forms.ChoiceField(label=_("Email label"), choices=Label.choices, initial=Label.WORK)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    phone_label = forms.ChoiceField(label=_("Phone label"), choices=Label.choices, initial=Label.MOBILE)
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    company_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    tags = forms.CharField(label=_("Tags"), max_length=1000, required=False, help_text=_("Separate tags with commas."))
    status = forms.ChoiceField(label=_("Lifecycle status"), choices=Contact.Status.choices)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=DateInput(),
        help_text=_("Optional. A contact under 16 is marked as a minor."),
    )
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=_language_choices, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=Contact.Source.choices, initial=Contact.Source.MANUAL)
    source_detail = forms.CharField(label=_("Source detail"), max_length=200, required=False)
    # Required, so it starts at today (the model's default) rather than blank.
    source_date = forms.DateField(label=_("Obtained on"), widget=DateInput(), initial=timezone.localdate)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    confirm_duplicates = forms.BooleanField(label=_("Save anyway"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    submit_token = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, contact: Contact | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.company_candidates: list[Company] = []
        self.fields["owner"].queryset = User.objects.filter(memberships__organization=organization).order_by(
            "full_name", "email"
        )
        self.fields["owner"].label_from_instance = lambda user: user.full_name or user.email
        self.custom_definitions = definitions_for(organization, CustomField.Entity.CONTACT)
        self.fields.update(form_fields_for(organization, CustomField.Entity.CONTACT, self.custom_definitions))
        self.initial.setdefault("submit_token", uuid.uuid4().hex)
        if contact is not None and not self.is_bound:
            self.initial.update(initial_for(contact))
            self.initial.update(initial_values(self.custom_definitions, contact))

    @property
    def custom_bound_fields(self):
        return [self[field_name(d)] for d in self.custom_definitions]

    def clean_first_name(self) -> str:
        value = self.cleaned_data["first_name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter a first name."))
        return value

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data["phone"], self.organization.country)

    def clean_tags(self) -> list[str]:
        return split_tag_names(self.cleaned_data["tags"])

    def clean(self):
        cleaned = super().clean()
        name = " ".join((cleaned.get("company_name") or "").split())
        cleaned["company"] = None
        if name:
            chosen = cleaned.get("company_id")
            candidates = [c for c in search_companies(self.organization, name) if _same(c.name, name)]
            matching = [c for c in candidates if c.pk == chosen]
            if matching:
                cleaned["company"] = matching[0]
            elif len(candidates) == 1:
                cleaned["company"] = candidates[0]
            elif not candidates:
                self.add_error("company_name", _("No company has this name. Create the company first."))
            else:
                self.company_candidates = candidates
                self.add_error("company_name", _("Several companies have this name: choose one below."))
        return cleaned

    def service_data(self) -> dict:
        data = self.cleaned_data
        names = (
            "first_name",
            "last_name",
            "email",
            "email_label",
            "phone",
            "phone_label",
            "job_title",
            "company",
            "owner",
            "tags",
            "status",
            "date_of_birth",
            "preferred_language",
            "source",
            "source_detail",
            "source_date",
            "notes",
        )
        result = {name: data.get(name) for name in names}
        result["custom"] = {d.key: data.get(field_name(d)) for d in self.custom_definitions}
        return result


def _same(a: str, b: str) -> bool:
    return blind.fold_text(" ".join(a.split())) == blind.fold_text(" ".join(b.split()))


def initial_for(contact: Contact) -> dict:
    """The form's initial values for an existing contact (read inside the tenant context)."""
    initial = {
        name: getattr(contact, name)
        for name in (
            "first_name",
            "last_name",
            "email",
            "email_label",
            "phone",
            "phone_label",
            "job_title",
            "status",
            "date_of_birth",
            "preferred_language",
            "source",
            "source_detail",
            "source_date",
            "notes",
        )
    }
    initial["phone"] = normalize.format_phone(contact.phone)
    initial["owner"] = contact.owner_id
    initial["version"] = contact.version
    if contact.company_id:
        initial["company_name"] = contact.company.name
        initial["company_id"] = contact.company_id
    initial["tags"] = ", ".join(sorted(t.name for t in contact.tags.all()))
    return initial


class ExtraEmailForm(forms.Form):
    email = forms.EmailField(label=_("Further email address"), max_length=254, required=False)
    label = forms.ChoiceField(label=_("Label"), choices=Label.choices, initial=Label.OTHER)


class ExtraPhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Further phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    label = forms.ChoiceField(label=_("Label"), choices=Label.choices, initial=Label.OTHER)

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_phone(self) -> str:
        return validate_phone(self.cleaned_data["phone"], self.organization.country)


class AddressForm(forms.Form):
    label = forms.ChoiceField(label=_("Label"), choices=Label.choices, initial=Label.WORK)
    street = forms.CharField(label=_("Street"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    region = forms.CharField(label=_("County or region"), max_length=100, required=False)
    country = CountryField(label=_("Country"), blank="—", required=False)


ExtraEmailFormSet = forms.formset_factory(ExtraEmailForm, extra=0, can_delete=True, max_num=20, validate_max=True)
ExtraPhoneFormSet = forms.formset_factory(ExtraPhoneForm, extra=0, can_delete=True, max_num=20, validate_max=True)
AddressFormSet = forms.formset_factory(AddressForm, extra=0, can_delete=True, max_num=10, validate_max=True)


def formset_rows(formset, fields: tuple[str, ...]) -> list[dict]:
    """The formset's rows for the service, without the deleted and empty ones."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        rows.append({name: data.get(name) for name in fields})
    return rows


class MergeForm(forms.Form):
    """Which of the two contacts survives, and for each field group and custom field whose
    value it keeps. The choices name the page's columns ("a", the contact the page was
    opened from, and "b"), not survivor and duplicate, so that choosing the other survivor
    does not turn every other choice round."""

    keep = forms.ChoiceField(choices=[("a", "a"), ("b", "b")], widget=forms.RadioSelect)
    a_version = forms.IntegerField(widget=forms.HiddenInput)
    b_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, custom_fields=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = {**MERGE_LABELS, **{field_name(d): d.label for d in custom_fields}}
        for name, label in labels.items():
            self.fields[name] = forms.ChoiceField(
                label=label, choices=[("a", "a"), ("b", "b")], widget=forms.RadioSelect, required=False
            )
        self.field_names = list(labels)

    def sides(self) -> tuple[str, str]:
        """(survivor's column, duplicate's column)."""
        keep = self.cleaned_data["keep"]
        return keep, ("b" if keep == "a" else "a")

    def choices(self) -> dict[str, str]:
        """The service's choices: a field left unchosen keeps the survivor's value."""
        keep, _other = self.sides()
        return {
            name: SURVIVOR if (self.cleaned_data.get(name) or keep) == keep else DUPLICATE for name in self.field_names
        }
