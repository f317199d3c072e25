"""The project's URLs plus two probes under /p/<org_slug>/, for tests/test_public_pages.py."""

from django.http import JsonResponse
from django.urls import include, path
from django_scopes import scopes_disabled

from contacts.models import Contact
from logicnet.tenancy.context import active_organization_id
from logicnet.tenancy.public import public_page
from logicnet.urls import urlpatterns as project_urlpatterns


@public_page
def tenant_probe(request, org_slug):
    # Wall 1 switched off on purpose: what is left visible is wall 2's doing.
    with scopes_disabled():
        contact_organizations = sorted(set(Contact._base_manager.values_list("organization_id", flat=True)))
    return JsonResponse(
        {
            "active": active_organization_id(),
            "public": request.public_organization.pk,
            "member_organization": getattr(request.organization, "pk", None),
            "contact_organizations": contact_organizations,
        }
    )


def unmarked(request, org_slug):
    return JsonResponse({"served": True})


urlpatterns = [
    path("p/<slug:org_slug>/probe/", tenant_probe),
    path("p/<slug:org_slug>/unmarked/", unmarked),
    path("", include(project_urlpatterns)),
]
