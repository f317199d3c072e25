from functools import partial

from accounts.models import Membership
from accounts.two_factor import has_two_factor


def navigation(request):
    """The organization switcher: the user's organizations (Membership is not tenant-scoped)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # On an organization's pages the tenancy middleware has read them already.
    memberships = getattr(request, "user_memberships", None)
    if memberships is None:
        memberships = (
            Membership.objects.filter(user=user, organization__is_active=True)
            .select_related("organization")
            .order_by("organization__name")
        )
    return {
        "my_memberships": memberships,
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        # Called by the template only when it renders the user menu.
        "has_two_factor": partial(has_two_factor, user),
    }
