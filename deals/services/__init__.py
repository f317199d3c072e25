"""Writes of the deals app, one module per topic."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def check_owned(organization, *objects) -> None:
    """Refuse objects (None is skipped) of another organization, before any write: a form or
    a crafted POST may name another tenant's row, which row-level security would hide anyway."""
    for obj in objects:
        if obj is not None and obj.organization_id != organization.pk:
            raise ValidationError(_("That belongs to another organization."), code="foreign")
