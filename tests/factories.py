"""Small factories that build data through the real services."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from accounts.models import Membership, Organization, User
from accounts.services import create_organization
from logicnet.tenancy.context import acting_user, tenant_context, user_context

PASSWORD = "correct-horse-battery-9"


def make_user(email: str, name: str = "Test User", *, password: str = PASSWORD, verified: bool = True) -> User:
    user = User.objects.create_user(email, password, full_name=name)
    with user_context(user):  # addresses are visible and writable only for their acting user
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_organization(name: str, *, owner: User) -> Organization:
    return create_organization(name=name, owner=owner)


def make_member(organization: Organization, user: User, role: str) -> Membership:
    # As the service does: the user joins, inside the organization joined (a row policy).
    with acting_user(user), tenant_context(organization):
        return Membership.objects.create(organization=organization, user=user, role=role)
