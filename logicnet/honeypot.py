"""The honeypot field every public form carries (the privacy request, the child-data report,
the consent sign-up): hidden from people by a CSS class (never an inline style: the CSP
forbids them), out of the tab order and hidden from screen readers; bots fill it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class HoneypotForm(forms.Form):
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    @property
    def is_from_a_bot(self) -> bool:
        return bool(self.is_bound and (self.data.get("website") or "").strip())
