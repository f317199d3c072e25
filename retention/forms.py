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


class HoldForm(forms.Form):
    entity = forms.ChoiceField(
        label=_("Hold"), choices=[("contact", _("a contact")), ("interaction", _("an interaction"))]
    )
    number = forms.IntegerField(
        label=_("Number"), min_value=1, help_text=_("The number in the contact's or interaction's address.")
    )
    reference = forms.CharField(
        label=_("Case or matter reference"),
        max_length=100,
        help_text=_("For example a case number. Write no personal data here."),
    )


class ReleaseForm(forms.Form):
    hold = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
