"""Forms of the import pages. They validate and normalise; imports/services.py saves."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.forms_companies import members_queryset, split_tag_names
from imports import mapping
from imports.models import Import
from imports.records import ImportOptions, MatchOn, Mode

ACCEPT = ".csv,.tsv,.txt,.xlsx,.vcf,.vcard,.json,text/csv,text/vcard"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV, Excel (.xlsx) or vCard (.vcf), up to 200 MB and 1,000,000 rows: exports of Google Contacts, "
            "Outlook, Thunderbird, LinkedIn, Salesforce, iPhone and Android are recognised."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    kind = forms.ChoiceField(
        label=_("What it holds"),
        choices=Import.Kind.choices,
        initial=Import.Kind.CONTACTS,
        help_text=_("Deals and transactions name existing contacts by email address and companies by name."),
    )


class MappingForm(forms.Form):
    """One choice of field per column of the file, and optionally a name to save it under."""

    kind = forms.ChoiceField(label=_("Import as"), choices=Import.Kind.choices)
    save_as = forms.CharField(
        label=_("Save this mapping as"),
        max_length=100,
        required=False,
        help_text=_("Offered again for files with the same columns."),
    )

    def __init__(self, *args, headers: list[str], kind: str, columns: list[mapping.Column], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices_by_kind = mapping.fields_for(kind)
        chosen = {c.column: c for c in columns}
        for index, header in enumerate(headers):
            current = chosen.get(index)
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header,
                choices=list(choices_by_kind.items()),
                required=False,
                initial=current.field if current else "",
            )
            self.fields[f"label_{index}"] = forms.ChoiceField(
                label=_("Label"),
                choices=[("", "—"), *[(label, label) for label in mapping.LABELS]],
                required=False,
                initial=current.label if current else "",
            )
        self.initial_columns = chosen

    def column_rows(self):
        for index, header in enumerate(self.headers):
            yield index, header, self[f"col_{index}"], self[f"label_{index}"]

    def columns(self) -> list[mapping.Column]:
        result = []
        for index in range(len(self.headers)):
            field = self.cleaned_data.get(f"col_{index}") or ""
            if not field:
                continue
            before = self.initial_columns.get(index)
            group = before.group if before and before.field == field else ""
            result.append(mapping.Column(index, field, self.cleaned_data.get(f"label_{index}") or "", group))
        return result


class OptionsForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=[
            (Mode.CREATE_UPDATE, _("Create new records and update the ones that match")),
            (Mode.CREATE, _("Create new records only; skip the ones that match")),
            (Mode.UPDATE, _("Update the records that match only; skip the others")),
        ],
        initial=Mode.CREATE_UPDATE,
    )
    match_on = forms.ChoiceField(
        label=_("Match on"),
        choices=[
            (MatchOn.EMAIL, _("Email address")),
            (MatchOn.PHONE, _("Phone number")),
            (MatchOn.EXTERNAL_ID, _("ID in the other system")),
        ],
        initial=MatchOn.EMAIL,
    )
    tags = forms.CharField(
        label=_("Tags"),
        max_length=1000,
        required=False,
        help_text=_("Added to every imported record; separate with commas."),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label="—")
    source_detail = forms.CharField(
        label=_("Where the data came from"),
        max_length=300,
        help_text=_(
            'Recorded for each imported person, for example "Customers of the old shop" or "Sign-ups at the Cluj fair, 3 May 2026".'
        ),
    )
    lawful_basis = forms.CharField(
        label=_("Lawful basis"),
        max_length=300,
        help_text=_('For example "Existing customers — legitimate interest" or "Consented at the fair on 3 May 2026".'),
    )

    def __init__(self, *args, organization, kind: str = Import.Kind.CONTACTS, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_queryset(organization)
        if kind in (Import.Kind.DEALS, Import.Kind.TRANSACTIONS):
            # Deals and transactions are always created (their writer says why) and hold no
            # person's details, whose source and basis the other kinds record.
            for name in ("mode", "match_on", "source_detail", "lawful_basis"):
                del self.fields[name]
            self.fields["owner"].label = _("Owner of deals without one")
            self.fields["owner"].help_text = _("Otherwise you.")
            self.fields["tags"].help_text = _("Added to every imported deal; separate with commas.")
            if kind == Import.Kind.TRANSACTIONS:
                del self.fields["tags"]
                self.fields["owner"].label = _("Owner of the companies the import creates")
                self.fields["owner"].help_text = ""

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        owner = data.get("owner")
        return ImportOptions(
            mode=Mode(data.get("mode") or Mode.CREATE),
            match_on=MatchOn(data.get("match_on") or MatchOn.EMAIL),
            tags=split_tag_names(data.get("tags", "")),
            owner_id=owner.pk if owner else None,
            source_detail=data.get("source_detail", "").strip(),
            lawful_basis=data.get("lawful_basis", "").strip(),
        )

    @staticmethod
    def initial_from(options: dict) -> dict:
        return {
            "mode": options.get("mode", Mode.CREATE_UPDATE),
            "match_on": options.get("match_on", MatchOn.EMAIL),
            "tags": ", ".join(options.get("tags", [])),
            "owner": options.get("owner_id"),
            "source_detail": options.get("source_detail", ""),
            "lawful_basis": options.get("lawful_basis", ""),
        }
