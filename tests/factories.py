"""Small factories that build data through the real services."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from accounts.models import Membership, Organization, User
from accounts.services import create_organization

PASSWORD = "correct-horse-battery-9"


def make_user(email: str, name: str = "Test User", *, password: str = PASSWORD, verified: bool = True) -> User:
    user = User.objects.create_user(email, password, full_name=name)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_organization(name: str, *, owner: User) -> Organization:
    return create_organization(name=name, owner=owner)


def make_member(organization: Organization, user: User, role: str) -> Membership:
    return Membership.objects.create(organization=organization, user=user, role=role)
