"""The Romanian fiscal identification code (CUI / CIF), with its check digit.

Format: an optional "RO" prefix (VAT-registered), then 2 to 10 digits, the last being the
check digit. The check digit: the other digits, right-aligned against the key 753217532,
multiplied pairwise and summed; times 10, modulo 11; 10 counts as 0 (ANAF's algorithm).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

KEY = "753217532"
_FORMAT = re.compile(r"^(RO)?([0-9]{2,10})$")


def cui_check_digit(body: str) -> int:
    """The check digit of the digits before it (at most 9)."""
    padded = body.rjust(len(KEY), "0")
    total = sum(int(digit) * int(weight) for digit, weight in zip(padded, KEY, strict=True))
    return (total * 10) % 11 % 10


def normalize_cui(value: str) -> str:
    """Upper case, spaces, dots and dashes removed: " ro 18 547 290" → "RO18547290"."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def validate_cui(value: str) -> str:
    """Return the normalized CUI or raise ValidationError (bad format or check digit)."""
    cui = normalize_cui(value)
    match = _FORMAT.match(cui)
    if match is None:
        raise ValidationError(
            _("A CUI is 2 to 10 digits, optionally after RO (for example RO18547290)."), code="cui_format"
        )
    digits = match.group(2)
    if digits[0] == "0":
        raise ValidationError(_("A CUI does not start with 0."), code="cui_format")
    if cui_check_digit(digits[:-1]) != int(digits[-1]):
        raise ValidationError(_("This CUI's check digit is wrong: check the number."), code="cui_check_digit")
    return cui
