"""The one place where logicnet/ reaches the organization and membership models.

They are the tenancy mechanism, but they still live in the `accounts` app (moving them
touches every migration and is its own change). Until then the mechanisms name them only
through settings, resolved here with `apps.get_model`, the way Django resolves
AUTH_USER_MODEL, so no module under logicnet/ imports a product app (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.utils.module_loading import import_string


def organization_model() -> type[Model]:
    return apps.get_model(settings.TENANCY_ORGANIZATION_MODEL, require_ready=False)


def membership_model() -> type[Model]:
    return apps.get_model(settings.TENANCY_MEMBERSHIP_MODEL, require_ready=False)


def access_gates() -> list[Callable]:
    """Product rules that may stop a member at an organization's door (its two-factor
    requirement): each takes (request, organization) and returns a response or None."""
    return [import_string(path) for path in settings.TENANCY_ACCESS_GATES]


def role_limits() -> list[Callable]:
    """Product rules capping the role members act with in an organization (billing's
    read-only mode): each takes the organization and returns the highest role or None."""
    return [import_string(path) for path in getattr(settings, "TENANCY_ROLE_LIMITS", [])]
