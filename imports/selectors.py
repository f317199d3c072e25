"""Reads of imports that need care: the imports an actor may see, and one of them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from imports.models import Import
from logicnet.tenancy.roles import Actor, Role

LIST_SIZE = 50


def imports_for(actor: Actor) -> QuerySet[Import]:
    """The organization's imports, newest first: every member who may import sees them all
    (an import is the team's work; its rows hold no personal value). Read-only members none."""
    if not actor.at_least(Role.MEMBER):
        return Import.objects.none()
    return Import.objects.filter(organization=actor.organization).order_by("-created_at")


def get_import_for(actor: Actor, pk: int) -> Import:
    """One import of the actor's organization; another organization's is a 404."""
    found = imports_for(actor).filter(pk=pk).select_related("job").first()
    if found is None:
        raise Http404
    return found
