"""Saved list views: a named filter, sort and column choice, personal or shared."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from accounts.models import Membership, Organization, User
from contacts.models import SavedView
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role


def create_saved_view(
    *,
    organization: Organization,
    actor: User,
    entity: str,
    name: str,
    params: dict[str, list[str]],
    personal_params: dict[str, list[str]] | None = None,
    is_shared: bool = False,
) -> SavedView:
    """`params` are filters on structure (ids, statuses, dates), stored plain; filters on
    personal values (a company name) go in `personal_params`, stored encrypted."""
    with tenant_context(organization):
        saved_view = SavedView(
            organization=organization,
            entity=entity,
            name=name,
            owner=actor,
            is_shared=is_shared,
            params=params,
            personal_params=personal_params or None,
        )
        saved_view.full_clean()
        saved_view.save(force_insert=True)
        # The parameters can hold filter values typed by the user: only their names go in.
        record_event(
            action="saved_view.created",
            actor=actor,
            organization=organization,
            target=saved_view,
            details={"entity": entity, "shared": is_shared, "params": sorted({*params, *(personal_params or {})})},
        )
    return saved_view


def delete_saved_view(*, organization: Organization, actor: User, saved_view: SavedView) -> None:
    """Only the view's owner or an admin of the organization may delete it."""
    with tenant_context(organization):
        if saved_view.organization_id != organization.pk:
            raise PermissionDenied
        if saved_view.owner_id != actor.pk:
            membership = Membership.objects.filter(organization=organization, user=actor).first()
            if membership is None or not Role.at_least(membership.role, Role.ADMIN):
                raise PermissionDenied
        record_event(
            action="saved_view.deleted",
            actor=actor,
            organization=organization,
            target=saved_view,
            details={"entity": saved_view.entity, "shared": saved_view.is_shared},
        )
        saved_view.delete()
