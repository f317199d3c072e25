"""Forms of the retention page: they validate, the services save."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from retention.services.settings import days_to_months


class PeriodsForm(forms.Form):
    """One field per rule the organization may set, in months; empty: kept while the
    organization keeps the data."""

    def __init__(self, *args, rules, current: dict[str, int | None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for rule in rules:
            days = current.get(rule.key, rule.duration.days if rule.duration else None)
            self.fields[rule.key] = forms.IntegerField(
                label=_("%(rule)s: months") % {"rule": rule.key.replace("_", " ").capitalize()},
                help_text=rule.description,
                required=False,
                min_value=1,
                max_value=1200,
                initial=days_to_months(days) if days else None,
            )


class HoldSearchForm(forms.Form):
    """Find the person to hold: POSTed, since a name or address in a URL reaches the logs."""

    q = forms.CharField(
        label=_("Find the person: a name's first letters or an email address"),
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class HoldForm(forms.Form):
    """The hold on one of the contacts (or one of their interactions) the search found.
    `target` is "contact:<id>" or "interaction:<id>"; the service checks it is the
    organization's."""

    target = forms.RegexField(
        label=_("Hold"),
        regex=r"^(contact|interaction):[0-9]{1,18}$",
        error_messages={"required": _("Choose the contact or the interaction to hold.")},
    )
    q = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)
    reference = forms.CharField(
        label=_("Case or matter reference"),
        max_length=100,
        help_text=_("For example a case number. Write no personal data here."),
    )

    def target_kwargs(self) -> dict[str, int]:
        entity, number = self.cleaned_data["target"].split(":")
        return {f"{entity}_id": int(number)}


class ReleaseForm(forms.Form):
    hold = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
