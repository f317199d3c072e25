"""The exports page, the Export action of the lists, progress and download.

Who: members and above start exports (services.EXPORT_ROLE); an export is reachable by
the member who started it, and by the organization's admins and owners, who see every
contact anyway (contacts.access.sees_all_contacts). Anyone else gets a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exports import services
from exports.registry import export_list, export_lists
from logicnet.audit.services import client_ip
from logicnet.tenancy.roles import Role, requires_role

# The list pages' entity (contacts.models.CustomField.Entity) -> the export list.
LIST_OF_ENTITY = {"contact": "contacts", "company": "companies"}
# The filter of the lists exported from the exports page (exports.lists.matching_interactions).
OTHER_LIST_FILTERS = ("kind", "occurred_from", "occurred_to")


def _list_params(request, list_key: str) -> dict[str, list[str]]:
    """The list page's filter, kept as the page keeps it in its URL (no cursor; a typed
    company name only as its sealed token)."""
    from contacts.forms_lists import list_params
    from contacts.selectors_lists import custom_fields_for

    query = QueryDict(request.POST.get("query", "")[:4000])
    entity = {value: key for key, value in LIST_OF_ENTITY.items()}.get(list_key)
    if entity is None:
        # A list without a list page (interactions): its filter is the export form's own.
        wanted = {key: request.POST.get(key) or query.get(key, "") for key in OTHER_LIST_FILTERS}
        return {key: [value] for key, value in wanted.items() if value}
    return list_params(query, entity, custom_fields_for(request.organization, entity))


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def export_index(request, org_slug):
    """The actor's exports, newest first, and a form to export lists without a list page."""
    jobs = services.exports_of(request.actor)
    lists = [spec for spec in export_lists() if spec.key not in LIST_OF_ENTITY.values()]
    from activity.models import Interaction

    return render(
        request,
        "exports/index.html",
        {
            "jobs": jobs,
            "other_lists": lists,
            "retention_days": services.EXPORT_RETENTION.days,
            "interaction_kinds": Interaction.Kind.choices,
        },
    )


@require_POST
@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def export_start(request, org_slug):
    list_key = request.POST.get("list", "")
    try:
        export_list(list_key)
    except KeyError:
        raise Http404 from None
    try:
        job = services.start_export(
            actor=request.actor,
            list_key=list_key,
            params=_list_params(request, list_key),
            file_format=request.POST.get("format", "csv"),
            bom=request.POST.get("bom") == "1",
        )
    except services.ExportError as exc:
        messages.error(request, str(exc))
        return redirect("export_index", org_slug=org_slug)
    return redirect("export_detail", org_slug=org_slug, export_id=job.pk)


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def export_detail(request, org_slug, export_id):
    job = services.get_export_for(request.actor, export_id)
    template = "exports/_progress.html" if request.htmx else "exports/detail.html"
    return render(request, template, {"job": job})


@requires_role(read=Role.MEMBER, write=Role.MEMBER)
def export_download(request, org_slug, export_id):
    job = services.get_export_for(request.actor, export_id)
    if not job.export_available:
        messages.error(request, _("This export is no longer available: its file was deleted. Start a new export."))
        return redirect("export_index", org_slug=org_slug)
    filename, content_type, chunks = services.open_download(request.actor, job, ip_address=client_ip(request))
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("exports/", export_index, name="export_index"),
    path("exports/new/", export_start, name="export_start"),
    path("exports/<int:export_id>/", export_detail, name="export_detail"),
    path("exports/<int:export_id>/download/", export_download, name="export_download"),
]
