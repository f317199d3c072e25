"""Membership roles and the per-view minimum role.

Views inside an organization declare the least role they need with @requires_role. A
view that declares nothing is readable by every member and writable (POST and the like)
by members and above, never by read-only members: the default fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    READ_ONLY = "read_only", _("Read-only")

    @classmethod
    def rank(cls, role: str) -> int:
        return {cls.READ_ONLY: 0, cls.MEMBER: 1, cls.ADMIN: 2, cls.OWNER: 3}[role]

    @classmethod
    def at_least(cls, role: str, needed: str) -> bool:
        return cls.rank(role) >= cls.rank(needed)


def requires_role(read: str = Role.READ_ONLY, write: str = Role.MEMBER, *, privacy_officer: bool = False) -> Callable:
    """`privacy_officer`: a member appointed privacy officer may also use the view, whatever
    the role it names (the privacy desk: admins and officers)."""

    def decorate(view):
        view.logicnet_roles = (read, write)
        view.logicnet_privacy_officer = privacy_officer
        return view

    return decorate


def privacy_officer_may(view) -> bool:
    target = getattr(view, "view_class", view)
    return bool(getattr(target, "logicnet_privacy_officer", getattr(view, "logicnet_privacy_officer", False)))


def beyond_role_limits(view):
    """Mark a view usable with the membership's own role even while the organization's role
    is limited (TENANCY_ROLE_LIMITS): the billing page, where an owner lifts the limit."""
    view.logicnet_beyond_role_limits = True
    return view


def is_beyond_role_limits(view) -> bool:
    target = getattr(view, "view_class", view)
    return bool(getattr(target, "logicnet_beyond_role_limits", getattr(view, "logicnet_beyond_role_limits", False)))


def limited_role(organization, role: str) -> str:
    """The membership's role capped by every TENANCY_ROLE_LIMITS rule for the organization."""
    from logicnet.tenancy.organizations import role_limits

    for rule in role_limits():
        limit = rule(organization)
        if limit is not None and Role.rank(limit) < Role.rank(role):
            role = limit
    return role


def minimum_role_for(view, safe_method: bool) -> str:
    target = getattr(view, "view_class", view)
    read, write = getattr(target, "logicnet_roles", getattr(view, "logicnet_roles", (Role.READ_ONLY, Role.MEMBER)))
    return read if safe_method else write


@dataclass(frozen=True)
class Actor:
    """Who acts inside an organization: the organization, the user (None for work no
    person started, such as a scheduled job) and their role there.

    Permission and visibility rules take an Actor, never a request, so a view, a job, an
    export and a public page apply the same rule. The tenancy middleware builds one per
    request (`request.actor`) from the membership it has checked.
    """

    organization: Any
    user: Any
    role: str
    privacy_officer: bool = False

    @classmethod
    def from_membership(cls, membership, *, user=None, limited: bool = True) -> Actor:
        """`user`: the membership's user when the caller holds it already (the request's
        user), which saves loading it again.

        The role is capped by the organization's role limits (TENANCY_ROLE_LIMITS: billing's
        read-only mode) unless `limited` is False (pages marked `beyond_role_limits`). A
        capped owner or admin keeps the privacy desk: answering data-subject requests is a
        legal duty (GDPR Art. 12) that does not wait for a payment."""
        role = membership.role
        privacy_officer = membership.is_privacy_officer
        if limited:
            capped = limited_role(membership.organization, role)
            if capped != role:
                privacy_officer = privacy_officer or Role.at_least(role, Role.ADMIN)
                role = capped
        return cls(
            organization=membership.organization,
            user=user or membership.user,
            role=role,
            privacy_officer=privacy_officer,
        )

    def at_least(self, needed: str) -> bool:
        return Role.at_least(self.role, needed)

    @property
    def works_privacy_desk(self) -> bool:
        """Admins, owners and appointed privacy officers answer data-subject requests."""
        return self.privacy_officer or self.at_least(Role.ADMIN)
