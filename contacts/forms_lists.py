"""Forms of the contacts and companies lists: filters (a GET form), saved views, bulk actions.

They validate and normalise; the views hand the cleaned data to the selectors and services.
Every choice is restricted to the request's organization.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.models import Company, Contact, CustomField, SavedView, Tag
from contacts.selectors_lists import DEFAULT_SORT
from logicnet.encryption.exceptions import DecryptionError
from logicnet.encryption.keys import decrypt_value, encrypt_value

SORT_CHOICES = [
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("-updated", _("Recently updated first")),
    ("updated", _("Least recently updated first")),
]
SORT_HELP = _(
    "Names are encrypted, so the database cannot sort by them: lists sort by when a record was added or changed."
)
PERSONAL_FIELDS_HELP = _("Custom fields holding personal data are encrypted and cannot be used as filters.")

CONTACT_COLUMNS = [
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("company", _("Company")),
    ("owner", _("Owner")),
    ("status", _("Status")),
    ("tags", _("Tags")),
    ("created", _("Created")),
    ("updated", _("Updated")),
]
DEFAULT_CONTACT_COLUMNS = ["email", "phone", "company", "owner", "status", "tags", "updated"]
COMPANY_COLUMNS = [
    ("domain", _("Website")),
    ("industry", _("Industry")),
    ("size", _("Size")),
    ("people", _("People")),
    ("owner", _("Owner")),
    ("tags", _("Tags")),
    ("created", _("Created")),
    ("updated", _("Updated")),
]
DEFAULT_COMPANY_COLUMNS = ["domain", "industry", "people", "owner", "tags", "created"]

# A personal filter value (a company name's first letters) never travels in a URL, where it
# would reach access logs, browser history and Referer headers: the filter form is POSTed and
# the list redirects to a URL carrying it sealed under this key (see `seal_filter_value`).
COMPANY_NAME_PARAM = "company_q"
# Personal filters: kept encrypted in a saved view's `personal_params`, never in `params`.
PERSONAL_LIST_PARAMS = {"company_name"}
_FILTER_LABEL = "contacts.ListFilter"  # associated data of sealed filter values

# The query-string keys a list understands: a saved view keeps only these.
LIST_PARAMS = {
    "contact": {"sort", "col", "tag", "owner", "status", "company", "created_from", "created_to"}
    | {"updated_from", "updated_to", COMPANY_NAME_PARAM},
    "company": {"sort", "col", "tag", "owner", "industry", "size", "created_from", "created_to"}
    | {"updated_from", "updated_to"},
}
CHECKBOX_CHOICES = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email


def members_queryset(organization):
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by("full_name", "email")


def tags_queryset(organization):
    return Tag.objects.filter(organization=organization).order_by("name")


@dataclass
class ListChoices:
    """The organization's tags and members, read once per request and shared by the filter
    and bulk forms: a ModelChoiceField left to itself re-reads its queryset (through a
    server-side cursor, several round trips) every time a widget renders."""

    tags: list[Tag]
    members: list[User]

    @classmethod
    def of(cls, organization) -> ListChoices:
        return cls(tags=list(tags_queryset(organization)), members=list(members_queryset(organization)))

    def apply(self, form: forms.Form, organization) -> None:
        """Validation still asks the database (only for the submitted values)."""
        if "tag" in form.fields:
            form.fields["tag"].queryset = tags_queryset(organization)
            tag_choices = [(tag.pk, tag.name) for tag in self.tags]
            if isinstance(form.fields["tag"], forms.ModelMultipleChoiceField):
                form.fields["tag"].choices = tag_choices
            else:
                form.fields["tag"].choices = [("", "---------"), *tag_choices]
        if "owner" in form.fields:
            field = form.fields["owner"]
            field.queryset = members_queryset(organization)
            field.choices = [("", field.empty_label), *[(u.pk, u.full_name or u.email) for u in self.members]]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ListFilterForm(forms.Form):
    """The filters, sort and columns of a list; bound to request.GET."""

    entity = ""
    column_choices: list = []
    default_columns: list = []

    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False, help_text=SORT_HELP)
    tag = forms.ModelMultipleChoiceField(label=_("Tags"), queryset=Tag.objects.none(), required=False)
    owner = MemberChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone"))
    created_from = forms.DateField(label=_("Created from"), required=False, widget=DateInput)
    created_to = forms.DateField(label=_("Created until"), required=False, widget=DateInput)
    updated_from = forms.DateField(label=_("Updated from"), required=False, widget=DateInput)
    updated_to = forms.DateField(label=_("Updated until"), required=False, widget=DateInput)
    col = forms.MultipleChoiceField(label=_("Columns"), choices=(), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, data, *, organization, custom_fields, choices: ListChoices | None = None, **kwargs):
        if data is not None and not data.getlist("col"):
            # No column choice in the query string: tick the defaults, so the chooser
            # shows what the table shows.
            data = data.copy()
            data.setlist("col", list(self.default_columns))
        super().__init__(data, **kwargs)
        self.organization = organization
        (choices or ListChoices.of(organization)).apply(self, organization)
        self.custom_fields = list(custom_fields)
        columns = list(self.column_choices) + [(f"cf_{f.key}", f.label) for f in self.custom_fields]
        self.fields["col"].choices = columns
        self.filterable_custom_fields = [f for f in self.custom_fields if not f.is_personal]
        self.personal_custom_fields = [f for f in self.custom_fields if f.is_personal]
        for custom_field in self.filterable_custom_fields:
            self.fields[f"cf_{custom_field.key}"] = custom_filter_field(custom_field)

    def clean_sort(self):
        return self.cleaned_data.get("sort") or DEFAULT_SORT

    def custom_filter_fields(self):
        return [self[f"cf_{f.key}"] for f in self.filterable_custom_fields]

    def columns(self) -> list[str]:
        """The chosen columns in the table's order (the chooser's), whatever the URL's order."""
        chosen = set((self.cleaned_data.get("col") if hasattr(self, "cleaned_data") else None) or [])
        chosen = chosen or set(self.default_columns)
        return [key for key, _label in self.fields["col"].choices if key in chosen]

    def column_labels(self) -> list[tuple[str, str]]:
        chosen = set(self.columns())
        return [(key, label) for key, label in self.fields["col"].choices if key in chosen]


def custom_filter_field(custom_field: CustomField) -> forms.Field:
    label = custom_field.label
    kind = custom_field.kind
    if kind == CustomField.Kind.NUMBER:
        return forms.DecimalField(label=label, required=False)
    if kind == CustomField.Kind.DATE:
        return forms.DateField(label=label, required=False, widget=DateInput)
    if kind in (CustomField.Kind.CHOICE, CustomField.Kind.MULTI):
        choices = [("", _("Any"))] + [(c, c) for c in custom_field.choices or []]
        return forms.ChoiceField(label=label, choices=choices, required=False)
    if kind == CustomField.Kind.CHECKBOX:
        return forms.ChoiceField(label=label, choices=CHECKBOX_CHOICES, required=False)
    return forms.CharField(label=label, required=False, max_length=200, strip=True)


class ContactFilterForm(ListFilterForm):
    entity = CustomField.Entity.CONTACT
    column_choices = CONTACT_COLUMNS
    default_columns = DEFAULT_CONTACT_COLUMNS

    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Contact.Status.choices], required=False
    )
    # Set from a company's page ("its people"): company names are encrypted, so there is
    # no list of them to pick from at a hundred thousand companies.
    company = forms.ModelChoiceField(queryset=Company.objects.none(), required=False, widget=forms.HiddenInput)
    company_name = forms.CharField(label=_("Company name starts with"), required=False, max_length=100, strip=True)

    def __init__(self, data, *, organization, custom_fields, **kwargs):
        super().__init__(data, organization=organization, custom_fields=custom_fields, **kwargs)
        self.fields["company"].queryset = Company.objects.filter(organization=organization)


class CompanyFilterForm(ListFilterForm):
    entity = CustomField.Entity.COMPANY
    column_choices = COMPANY_COLUMNS
    default_columns = DEFAULT_COMPANY_COLUMNS

    industry = forms.CharField(label=_("Industry"), required=False, max_length=100, strip=True)
    size = forms.ChoiceField(label=_("Size"), choices=[("", _("Any size")), *Company.Size.choices], required=False)


def list_params(query: QueryDict, entity: str, custom_fields) -> dict[str, list[str]]:
    """The part of a list's query string worth keeping in a URL or a saved view (no cursor,
    no personal value in the clear)."""
    allowed = LIST_PARAMS[entity] | {f"cf_{f.key}" for f in custom_fields if not f.is_personal}
    return {key: [v for v in query.getlist(key) if v][:50] for key in sorted(allowed) if any(query.getlist(key))}


def seal_filter_value(organization_id: int, key: str, value: str) -> str:
    """An opaque token for a personal filter value: encrypted with the organization's data
    key (AES-GCM, bound to the organization and the filter), so a URL holding it reveals
    nothing, and stops working when the organization's key is destroyed."""
    return encrypt_value(organization_id, _FILTER_LABEL, key, value.encode())


def open_filter_value(organization_id: int, key: str, token: str) -> str:
    """The value sealed in `token`; "" for a token that is not this organization's or is
    damaged (the filter is then left out, as an invalid filter value is)."""
    try:
        return decrypt_value(organization_id, _FILTER_LABEL, key, token).decode()
    except (DecryptionError, UnicodeDecodeError):
        return ""


def with_personal_filters(organization_id: int, query: QueryDict) -> QueryDict:
    """The list's query with its personal filter values opened from their tokens. A plain
    `company_name` in a URL (an old bookmark, a crafted link) is ignored: it must not
    become a way to filter that keeps the value in the log."""
    opened = query.copy()
    for key in PERSONAL_LIST_PARAMS:
        opened.pop(key, None)
    token = query.get(COMPANY_NAME_PARAM)
    if token:
        name = open_filter_value(organization_id, "company_name", token)
        if name:
            opened["company_name"] = name
    return opened


def sealed_params(organization_id: int, params: dict[str, list[str]], personal: dict | None) -> dict[str, list[str]]:
    """A saved view's URL parameters: its plain ones, and its personal ones sealed afresh."""
    found = dict(params or {})
    names = (personal or {}).get("company_name") or []
    if names:
        found[COMPANY_NAME_PARAM] = [seal_filter_value(organization_id, "company_name", str(names[0]))]
    return found


def split_personal_params(organization_id: int, params: dict[str, list[str]]) -> tuple[dict, dict | None]:
    """(plain params, personal params) of a list URL's parameters, for a saved view: the
    sealed company name is opened and kept in the view's encrypted column."""
    plain = {key: values for key, values in params.items() if key != COMPANY_NAME_PARAM}
    token = (params.get(COMPANY_NAME_PARAM) or [""])[0]
    name = open_filter_value(organization_id, "company_name", token) if token else ""
    return plain, ({"company_name": [name]} if name else None)


def params_query(params: dict[str, list[str]]) -> str:
    query = QueryDict(mutable=True)
    for key, values in sorted((params or {}).items()):
        if isinstance(values, list):
            query.setlist(key, [str(v) for v in values])
    return query.urlencode()


class SavedViewForm(forms.Form):
    entity = forms.ChoiceField(choices=CustomField.Entity.choices)
    name = forms.CharField(label=_("Name"), max_length=SavedView._meta.get_field("name").max_length, strip=True)
    is_shared = forms.BooleanField(label=_("Share with the organization"), required=False)
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the view a name."))
        return name


class IdListField(forms.Field):
    """Ticked row ids. Any integers: the view intersects them with what the user can see."""

    widget = forms.MultipleHiddenInput
    MAX_IDS = 10_000

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("The selection is not valid."), code="invalid") from exc
        if len(ids) > self.MAX_IDS:
            raise forms.ValidationError(_("Too many contacts are ticked; use “all matches” instead."), code="too_many")
        return ids


class BulkActionForm(forms.Form):
    """What to do, and to which contacts: the ticked ones, or every match of the filter."""

    ACTIONS = [
        ("tag", _("Add tag")),
        ("untag", _("Remove tag")),
        ("owner", _("Change owner")),
        ("status", _("Change status")),
        ("delete", _("Delete")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = IdListField(required=False)
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=4000)
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    owner = MemberChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("No owner"))
    status = forms.ChoiceField(label=_("Status"), choices=[("", "---------"), *Contact.Status.choices], required=False)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, data, *, organization, choices: ListChoices | None = None, **kwargs):
        # Shown on the same page as the filter form, which also has tag, owner and status
        # fields: with Django's default ids both would be id_tag..., and these labels would
        # point at the filter's selects.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(data, **kwargs)
        (choices or ListChoices.of(organization)).apply(self, organization)

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in ("tag", "untag") and not cleaned.get("tag"):
            self.add_error("tag", _("Choose a tag."))
        if action == "status" and not cleaned.get("status"):
            self.add_error("status", _("Choose a status."))
        if not cleaned.get("all_matching") and not cleaned.get("ids"):
            raise forms.ValidationError(_("Select at least one contact."))
        return cleaned
