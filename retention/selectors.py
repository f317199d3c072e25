"""Reads for the retention pages."""

from __future__ import annotations

from retention.models import LegalHold


def active_holds(organization):
    return LegalHold.objects.filter(organization=organization, released_at__isnull=True).order_by("-created_at")


def released_holds(organization, *, limit: int = 20):
    return LegalHold.objects.filter(organization=organization, released_at__isnull=False).order_by("-released_at")[
        :limit
    ]
