"""`{% fulfilment_panel privacy_request %}`: the fulfilment actions of a request on the desk,
with the state they need (its jobs, its packages, whether the contact is restricted)."""

from __future__ import annotations

from django import template

from logicnet.jobs.models import Job
from privacy.services import fulfilment

register = template.Library()


@register.inclusion_tag("privacy/desk/_fulfilment.html", takes_context=True)
def fulfilment_panel(context, privacy_request):
    jobs = list(
        Job.objects.filter(
            organization_id=privacy_request.organization_id,
            kind__in=[fulfilment.PACKAGE_JOB, fulfilment.ERASURE_JOB],
            params__request_id=privacy_request.pk,
        ).order_by("-created_at")[:10]
    )
    contact = privacy_request.contact
    return {
        "request": context.get("request"),
        "privacy_request": privacy_request,
        "rights": set(privacy_request.rights),
        "jobs": jobs,
        "packages": fulfilment.ready_packages(privacy_request),
        "contact": contact,
        "restricted": bool(contact and contact.restricted_at),
        "holds": fulfilment.legal_holds_of(privacy_request) if "erasure" in privacy_request.rights else [],
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def ready_packages(privacy_request) -> list[dict]:
    """`{% ready_packages privacy_request as packages %}`: the packages still downloadable."""
    return fulfilment.ready_packages(privacy_request)
