"""Public per-organization pages: /p/<org_slug>/..., for people who have no account.

The people whose data an organization keeps (its customers) exercise their rights, manage
consent and unsubscribe here (GDPR Art. 12(2): the controller facilitates the exercise of
the data subject's rights). So these pages resolve the organization without a membership:

1. count the request against the client address's budget (before any database work, so
   slug guessing is throttled too);
2. resolve the slug to an organization id through `logicnet_public_organization(slug)`, a
   narrow SECURITY DEFINER function that returns an id and nothing else: the application
   role needs no read access to the organizations table for an anonymous visitor;
3. an unknown or inactive organization is a plain 404, like any page that does not exist;
4. count the request against the organization's budget (one organization's portal flooded
   must not starve the others; see settings.PUBLIC_RATE_LIMITS);
5. run the view, and render its template, inside the organization's tenant context.

The organization is on `request.public_organization`, not `request.organization`: that one
means a member is working in it, and the layout would show its staff navigation.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse

from logicnet.client_ip import client_ip
from logicnet.ratelimit import consume, parse_rate
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.organizations import organization_model


def public_page(view: Callable) -> Callable:
    """Mark a view under /p/<org_slug>/ as public: no membership, rate-limited."""
    view.logicnet_public = True
    return view


def is_public_page(view: Callable) -> bool:
    target = getattr(view, "view_class", view)
    return bool(getattr(target, "logicnet_public", False) or getattr(view, "logicnet_public", False))


def public_organization_id(slug: str) -> int | None:
    """The id of the active organization with this slug, or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT logicnet_public_organization(%s)", [slug])
        (organization_id,) = cursor.fetchone()
    return organization_id


def serve_public_page(request, view_func, view_args, view_kwargs):
    limits = settings.PUBLIC_RATE_LIMITS
    client = client_ip(request) or "unknown"
    refused = _over_limit(request, "public-client", client, limits["client"])
    if refused is not None:
        return refused
    organization_id = public_organization_id(view_kwargs["org_slug"])
    if organization_id is None:
        raise Http404
    refused = _over_limit(request, "public-organization", str(organization_id), limits["organization"])
    if refused is not None:
        return refused
    with tenant_context(organization_id):
        request.public_organization = organization_model().objects.get(pk=organization_id)
        response = view_func(request, *view_args, **view_kwargs)
        # As for members' pages: lazy querysets in the template are read inside the scope.
        if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
            response = response.render()
    return response


def _over_limit(request, scope: str, identity: str, rate: str) -> HttpResponse | None:
    limit, period = parse_rate(rate)
    if consume(scope=scope, identity=identity, limit=limit, period=period):
        return None
    response = TemplateResponse(request, "429.html", {"retry_after": period}, status=429)
    response["Retry-After"] = str(period)
    return response.render()
