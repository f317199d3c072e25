"""Form helpers every app's views share."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from logicnet.locale_names import country_choices


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: errors keyed by a field the form has
    go to that field, the rest to the top of the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class CountryField(forms.ChoiceField):
    """A country select: names in the reader's language, sorted as that language sorts
    (logicnet/locale_names.py), storing the ISO 3166-1 alpha-2 code. A code sent in lower
    case ("ro", from a script or an old bookmark) is the same country."""

    def __init__(self, *, codes=None, blank: str | None = None, **kwargs) -> None:
        super().__init__(choices=lambda: country_choices(codes, blank=blank), **kwargs)

    def to_python(self, value) -> str:
        return super().to_python(value).strip().upper()
