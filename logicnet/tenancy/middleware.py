"""Resolve the organization from the URL and run the view and render its template inside
the tenant context.

Two kinds of organization URL:
- /o/<org_slug>/... for its members: membership checked, then the view's minimum role;
- /p/<org_slug>/... public pages (views marked with logicnet.tenancy.public.public_page):
  no membership, rate-limited, for the people whose data the organization keeps.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from logicnet.tenancy.context import acting_user, request_user_block, tenant_context
from logicnet.tenancy.organizations import access_gates, membership_model
from logicnet.tenancy.public import is_public_page, serve_public_page
from logicnet.tenancy.roles import Actor, Role, is_beyond_role_limits, minimum_role_for, privacy_officer_may

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ActingUserMiddleware:
    """Run the rest of the request inside a user block acting for the signed-in user (or
    for nobody), so the tables keyed by the acting user (email addresses, two-factor
    devices, session records: settings.TENANCY_USER_OWNED_MODELS) show django-otp, allauth
    and the account pages that user's rows and no one else's.

    Placed right after AuthenticationMiddleware and before OTPMiddleware: django-otp loads
    the session's device on first use of request.user, which must already be inside the
    block. `app.user_id` is transaction-local (a session-level setting was seen to leak
    into the next transaction on a pooled connection), so the block is the request's
    transaction (opened when sign-in proves a user, for a visitor not signed in); an
    organization's view nests its tenant_context inside it. Sign-in switches the block to
    the user it has proved (logicnet.tenancy.context.act_as).
    Work queued with transaction.on_commit runs after the block: it enters its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with request_user_block(user if user is not None and user.is_authenticated else None):
            return self.get_response(request)


class OrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        request.user_memberships = None
        request.actor = None
        request.public_organization = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("org_slug")
        if slug is None:
            return None
        if is_public_page(view_func):
            return serve_public_page(request, view_func, view_args, view_kwargs)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())

        # All of the user's memberships in the one query: the organization switcher on
        # every page lists them (accounts/context_processors.py), by organization name.
        memberships = list(
            membership_model()
            .objects.select_related("organization")
            .filter(user=request.user, organization__is_active=True)
            .order_by("organization__name")
        )
        membership = next((m for m in memberships if m.organization.slug == slug), None)
        if membership is None:
            # Another organization's URL looks exactly like one that does not exist.
            raise Http404
        for gate in access_gates():
            response = gate(request, membership.organization)
            if response is not None:
                return response
        request.organization = membership.organization
        request.membership = membership
        request.user_memberships = memberships
        # The role decided once for the request, capped by the organization's role limits
        # (billing's read-only mode) except on the pages that lift them.
        actor = Actor.from_membership(membership, user=request.user, limited=not is_beyond_role_limits(view_func))
        request.actor = actor
        _remember_organization(request, membership.organization_id)
        needed = minimum_role_for(view_func, request.method in SAFE_METHODS)
        if not Role.at_least(actor.role, needed) and not (actor.privacy_officer and privacy_officer_may(view_func)):
            raise PermissionDenied

        with acting_user(request.user), tenant_context(membership.organization):
            response = view_func(request, *view_args, **view_kwargs)
            # Lazy querysets in templates must be evaluated inside the scope (as pretix does).
            if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
                response = response.render()
        return response


def _remember_organization(request, organization_id: int) -> None:
    """Note on the user's session record which organizations it worked in, so removing a
    member can end exactly the sessions that had access to that organization."""
    session = getattr(request, "session", None)
    if session is None or organization_id in session.get("organizations", []):
        return
    session["organizations"] = [*session.get("organizations", []), organization_id]
    if not session.session_key:
        session.save()
    from allauth.usersessions.models import UserSession

    for record in UserSession.objects.filter(session_key=session.session_key):
        record.data["organizations"] = session["organizations"]
        record.save(update_fields=["data"])
