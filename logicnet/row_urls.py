"""URLs for many rows of one page (list rows, board cards): reversed once, filled in per row.
Reversing per row cost more than the rest of a row's markup."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

_MARKER = 2**62  # an id no row has, replaced in the reversed URL


def url_maker(org_slug: str, name: str, kwarg: str) -> Callable[[int], str]:
    """`name`'s URL for a row of the organization, as a function of the row's id."""
    template = reverse(name, kwargs={"org_slug": org_slug, kwarg: _MARKER})
    return lambda pk: template.replace(str(_MARKER), str(pk))
