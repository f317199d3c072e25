"""Forms of deals, the board's filters, the admin lists and transactions. They validate and
normalise; the services save. Contacts are picked with the interactions' search picker
(only chosen ones are rendered), companies offered from the chosen contacts'."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.forms_lists import DateInput, IdListField, ListChoices, MemberChoiceField, SavedViewForm, members_queryset
from contacts.models import Company, Contact, Tag
from deals.models import Currency, Deal, LostReason, Product, Stage, Transaction
from deals.selectors import DealFilters
from deals.services.settings import allowed_currencies

MONEY_FIELD = {"max_digits": 16, "decimal_places": 2, "min_value": Decimal("0")}


class DealFilterForm(forms.Form):
    """Board and list filters, bound to request.GET."""

    owner = MemberChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone"))
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    close_from = forms.DateField(label=_("Closing from"), required=False, widget=DateInput)
    close_to = forms.DateField(label=_("Closing until"), required=False, widget=DateInput)
    value_min = forms.DecimalField(label=_("Value from"), required=False, **MONEY_FIELD)
    value_max = forms.DecimalField(label=_("Value up to"), required=False, **MONEY_FIELD)

    def __init__(self, data, *, organization, choices: ListChoices | None = None, **kwargs):
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(data, **kwargs)
        (choices or ListChoices.of(organization)).apply(self, organization)

    def filters(self) -> DealFilters:
        if not self.is_valid():
            return DealFilters()
        data = self.cleaned_data
        return DealFilters(
            owner_id=data["owner"].pk if data.get("owner") else None,
            tag_id=data["tag"].pk if data.get("tag") else None,
            close_from=data.get("close_from"),
            close_to=data.get("close_to"),
            value_min=data.get("value_min"),
            value_max=data.get("value_max"),
        )

    def query(self) -> str:
        """The filters as a query string (for column pages and links)."""
        if not self.is_valid():
            return ""
        from urllib.parse import urlencode

        pairs = []
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            pairs.append((name, getattr(value, "pk", value)))
        return urlencode(pairs)


class DealForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none())
    value = forms.DecimalField(label=_("Value"), initial=Decimal("0"), **MONEY_FIELD)
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    expected_close = forms.DateField(label=_("Expected close date"), required=False, widget=DateInput)
    owner = MemberChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("No owner"))
    contacts = forms.ModelMultipleChoiceField(label=_("Contacts"), queryset=Contact.objects.none(), required=False)
    company = forms.ModelChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, organization, contacts, companies, company_choices, stages, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = stages
        if editing:
            # Stage and status change on the board and with the won/lost buttons (history).
            del self.fields["stage"]
        self.fields["currency"].choices = [(c, Currency(c).label) for c in allowed_currencies(organization)]
        self.fields["owner"].queryset = members_queryset(organization)
        self.fields["contacts"].queryset = contacts
        self.fields["company"].queryset = companies
        self.fields["company"].choices = [("", _("No company"))] + [(c.pk, c.name) for c in company_choices]
        self.fields["tags"].queryset = Tag.objects.filter(organization=organization).order_by("name")

    @staticmethod
    def initial_for(deal: Deal, contacts: list, tags: list) -> dict:
        return {
            "version": deal.version,
            "title": deal.title,
            "value": deal.value,
            "currency": deal.currency,
            "expected_close": deal.expected_close,
            "owner": deal.owner_id,
            "contacts": [c.pk for c in contacts],
            "company": deal.company_id,
            "tags": [t.pk for t in tags],
            "notes": deal.notes,
        }


class StatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=Deal.Status.choices, widget=forms.HiddenInput)
    lost_reason = forms.ModelChoiceField(
        label=_("Why was it lost?"), queryset=LostReason.objects.none(), required=False
    )

    def __init__(self, *args, organization, **kwargs):
        kwargs.setdefault("auto_id", "status_%s")
        super().__init__(*args, **kwargs)
        self.fields["lost_reason"].queryset = LostReason.objects.filter(organization=organization, archived_at=None)


class MoveForm(forms.Form):
    version = forms.IntegerField()
    stage = forms.ModelChoiceField(queryset=Stage.objects.none())
    before = forms.IntegerField(required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(organization=organization, archived_at=None)


class LineItemForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001"), initial=1
    )
    unit_price = forms.DecimalField(label=_("Unit price"), required=False, **MONEY_FIELD)
    discount = forms.DecimalField(
        label=_("Discount (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=0, required=False
    )
    vat_rate = forms.DecimalField(
        label=_("VAT (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=19
    )

    def __init__(self, *args, organization, **kwargs):
        kwargs.setdefault("auto_id", "line_%s")
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(organization=organization, archived_at=None)

    def clean(self):
        data = super().clean()
        product = data.get("product")
        if data.get("unit_price") is None:
            if product is None:
                self.add_error("unit_price", _("Enter a price or choose a product."))
            else:
                data["unit_price"] = product.unit_price
        if data.get("discount") is None:
            data["discount"] = Decimal("0")
        return data


class DealSavedViewForm(SavedViewForm):
    """The contacts' saved-view form for the deal list: the list is known, so no entity."""

    entity = None


class DealBulkForm(forms.Form):
    ACTIONS = [("owner", _("Change owner")), ("won", _("Mark won")), ("delete", _("Delete"))]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = IdListField(required=False)
    owner = MemberChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("No owner"))

    def __init__(self, data, *, organization, **kwargs):
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(data, **kwargs)
        self.fields["owner"].queryset = members_queryset(organization)

    def clean(self):
        data = super().clean()
        if not data.get("ids"):
            raise forms.ValidationError(_("Select at least one deal."))
        return data


# --- admin lists --------------------------------------------------------------------------------


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    make_default = forms.BooleanField(label=_("Default pipeline"), required=False)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0, max_value=100, initial=10)
    rotting_days = forms.IntegerField(label=_("Rotting after (days)"), min_value=1, required=False)


class ArchiveStageForm(forms.Form):
    move_to = forms.ModelChoiceField(label=_("Move its deals to"), queryset=Stage.objects.none())

    def __init__(self, *args, stage: Stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = (
            Stage.objects.filter(organization_id=stage.organization_id, archived_at=None)
            .exclude(pk=stage.pk)
            .select_related("pipeline")
            .order_by("pipeline__position", "position")
        )
        self.fields["move_to"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"


class NameForm(forms.Form):
    name = forms.CharField(label=_("Reason"), max_length=120)


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    code = forms.CharField(label=_("Code"), max_length=40, required=False)
    unit_price = forms.DecimalField(label=_("Unit price"), **MONEY_FIELD)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    vat_rate = forms.DecimalField(
        label=_("VAT (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=19
    )


class RateForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    date = forms.DateField(label=_("Date"), widget=DateInput)
    rate = forms.DecimalField(label=_("Rate"), max_digits=18, decimal_places=8, min_value=Decimal("0.00000001"))


class RateUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file (currency,date,rate)"))

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


class BaseCurrencyForm(forms.Form):
    base_currency = forms.ChoiceField(label=_("Base currency"), choices=Currency.choices)


class TransactionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Transaction.Kind.choices)
    date = forms.DateField(label=_("Date"), widget=DateInput)
    amount = forms.DecimalField(label=_("Amount"), **MONEY_FIELD)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    reference = forms.CharField(label=_("Reference"), max_length=60, required=False)
    description = forms.CharField(label=_("Description"), max_length=2000, required=False)
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)

    def __init__(self, *args, deals, organization, **kwargs):
        kwargs.setdefault("auto_id", "tx_%s")
        super().__init__(*args, **kwargs)
        self.fields["deal"].queryset = deals
        self.fields["currency"].choices = [(c, c) for c in allowed_currencies(organization)]
