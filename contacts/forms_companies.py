"""Forms of the company pages, the custom field definitions and the CRM settings.
They validate and normalise; the services in contacts/services/ save."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import validate_phone
from accounts.models import Organization, User
from contacts.custom_fields import FIELD_PREFIX, form_fields_for, initial_values
from contacts.models import Company, CustomField
from contacts.services.companies import normalize_domain
from contacts.services.custom_fields import KINDS_WITH_CHOICES, clean_choices
from contacts.services.tags import split_tag_names

ADDRESS_MAX_LENGTH = 1000
NOTES_MAX_LENGTH = 20000


def members_queryset(organization: Organization):
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by("full_name", "email")


class CompanyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    domain = forms.CharField(
        label=_("Website or domain"),
        max_length=253,
        required=False,
        help_text=_("For example example.com; a full address is shortened to its domain."),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    size = forms.ChoiceField(label=_("Size"), choices=[("", "—"), *Company.Size.choices], required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    address = forms.CharField(
        label=_("Address"), max_length=ADDRESS_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label="—")
    tags = forms.CharField(label=_("Tags"), max_length=1000, required=False, help_text=_("Separate tags with commas."))
    notes = forms.CharField(
        label=_("Notes"), max_length=NOTES_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    # The version the form was opened on: a save carrying an older one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, organization: Organization, definitions: list[CustomField], instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.definitions = definitions
        self.fields["owner"].queryset = members_queryset(organization)
        self.fields["owner"].label_from_instance = lambda user: user.full_name or user.email
        self.fields.update(form_fields_for(organization, CustomField.Entity.COMPANY, definitions))
        if instance is not None and not self.is_bound:
            self.initial.update(
                {
                    "name": instance.name,
                    "domain": instance.domain,
                    "industry": instance.industry,
                    "size": instance.size,
                    "phone": instance.phone,
                    "address": instance.address,
                    "owner": instance.owner_id,
                    "tags": ", ".join(t.name for t in instance.tags.all()),
                    "notes": instance.notes,
                    "version": instance.version,
                    **initial_values(definitions, instance),
                }
            )

    @property
    def custom_field_names(self) -> list[str]:
        return [name for name in self.fields if name.startswith(FIELD_PREFIX)]

    def custom_bound_fields(self):
        return [self[name] for name in self.custom_field_names]

    def standard_bound_fields(self):
        return [self[name] for name in self.fields if not name.startswith(FIELD_PREFIX) and name != "version"]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter the company's name."))
        return name

    def clean_domain(self) -> str:
        return normalize_domain(self.cleaned_data["domain"])

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return validate_phone(value, self.organization.country, require_valid=False) if value else ""

    def clean_tags(self) -> list[str]:
        return split_tag_names(self.cleaned_data["tags"])

    def service_data(self) -> dict:
        """What create_company / update_company take as `data` (the name is separate)."""
        data = {name: self.cleaned_data[name] for name in ("domain", "industry", "size", "phone", "address", "notes")}
        data["owner"] = self.cleaned_data["owner"]
        data["tags"] = self.cleaned_data["tags"]
        data["custom_fields"] = {name: self.cleaned_data[name] for name in self.custom_field_names}
        return data


class CustomFieldCreateForm(forms.Form):
    entity = forms.ChoiceField(label=_("For"), choices=CustomField.Entity.choices)
    label = forms.CharField(label=_("Label"), max_length=80)
    kind = forms.ChoiceField(label=_("Type"), choices=CustomField.Kind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=10000,
        help_text=_("For single and multiple choice fields: one choice per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_personal = forms.BooleanField(
        label=_("Holds personal data"),
        required=False,
        help_text=_("Personal values are encrypted and cannot be used as list filters. This cannot be changed later."),
    )

    def clean_label(self) -> str:
        label = " ".join(self.cleaned_data["label"].split())
        if not label:
            raise forms.ValidationError(_("Enter a label."))
        return label

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            try:
                cleaned["choices"] = clean_choices(kind, (cleaned.get("choices") or "").splitlines())
            except forms.ValidationError as exc:
                self.add_error("choices", exc.message_dict.get("choices", exc.messages))
        return cleaned


class CustomFieldEditForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=80)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=10000,
        help_text=_("One choice per line. Values already stored keep a removed choice until edited."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    position = forms.IntegerField(
        label=_("Position"), min_value=0, max_value=32767, help_text=_("Fields are shown in ascending order.")
    )

    def __init__(self, *args, field: CustomField, **kwargs):
        super().__init__(*args, **kwargs)
        self.field = field
        if field.kind not in KINDS_WITH_CHOICES:
            del self.fields["choices"]
        if not self.is_bound:
            self.initial.update(
                {"label": field.label, "choices": "\n".join(field.choices or []), "position": field.position}
            )

    def clean_label(self) -> str:
        label = " ".join(self.cleaned_data["label"].split())
        if not label:
            raise forms.ValidationError(_("Enter a label."))
        return label

    def clean_choices(self) -> list[str]:
        try:
            return clean_choices(self.field.kind, (self.cleaned_data.get("choices") or "").splitlines())
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict.get("choices", exc.messages)) from None


class CrmSettingsForm(forms.Form):
    contact_visibility = forms.ChoiceField(
        label=_("Who sees which contacts"),
        choices=Organization.ContactVisibility.choices,
        widget=forms.RadioSelect,
        help_text=_("Owners and admins always see every contact."),
    )
