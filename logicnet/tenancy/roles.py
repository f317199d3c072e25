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
    def from_membership(cls, membership, *, user=None) -> Actor:
        """`user`: the membership's user when the caller holds it already (the request's
        user), which saves loading it again."""
        return cls(
            organization=membership.organization,
            user=user or membership.user,
            role=membership.role,
            privacy_officer=membership.is_privacy_officer,
        )

    def at_least(self, needed: str) -> bool:
        return Role.at_least(self.role, needed)

    @property
    def works_privacy_desk(self) -> bool:
        """Admins, owners and appointed privacy officers answer data-subject requests."""
        return self.privacy_officer or self.at_least(Role.ADMIN)
