"""Pages of the notices app.

- /privacy/subprocessors/ (public): the sub-processors Logicnet engages;
- /privacy/accept/ (signed in, POST): accept the current privacy policy (the banner's button);
- /o/<org_slug>/privacy/records/ (admins, owners, privacy officers): the record of processing
  Logicnet keeps as the organization's processor (GDPR Art. 30(2)), as HTML and CSV;
- /o/<org_slug>/privacy/subprocessors/: the change notices, and the owners' objection.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logicnet.audit.services import client_ip
from logicnet.tenancy.roles import Role, requires_role
from notices import records
from notices.models import SubProcessorChange
from notices.services import policy, subprocessors


def subprocessor_list(request):
    """Public (GDPR Art. 28(2), (4)): who processes data for Logicnet, for what, where."""
    changes = SubProcessorChange.objects.order_by("-announced_at")[:10]
    return render(
        request,
        "notices/subprocessors.html",
        {"subprocessors": subprocessors.published_subprocessors(), "changes": changes},
    )


@login_required
@require_POST
def policy_accept(request):
    policy.accept_current(user=request.user, ip_address=client_ip(request))
    messages.success(request, _("Thank you: you accepted the privacy policy."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)


records_view = requires_role(read=Role.ADMIN, write=Role.ADMIN, privacy_officer=True)


@records_view
def processing_records(request, org_slug):
    record = records.processor_record(request.organization)
    return render(request, "notices/records.html", {"record": record})


@records_view
def processing_records_csv(request, org_slug):
    record = records.processor_record(request.organization)
    response = HttpResponse(records.record_csv(record), content_type="text/csv; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="records-of-processing-{org_slug}-{day}.csv"'
    return response


@requires_role(read=Role.ADMIN, write=Role.OWNER)
def organization_subprocessors(request, org_slug):
    """The change notices; an owner objects to an open one (POST with its id)."""
    if request.method == "POST":
        change = SubProcessorChange.objects.filter(pk=_int(request.POST.get("change"))).first()
        if change is None:
            raise Http404
        try:
            subprocessors.object_to_change(actor=request.actor, change=change, ip_address=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Your objection is recorded. Logicnet will contact you about it."))
        return redirect("organization_subprocessors", org_slug=org_slug)
    objections = subprocessors.objections_of(request.organization)
    changes = [
        {"change": change, "objection": objections.get(change.pk)}
        for change in SubProcessorChange.objects.order_by("-announced_at")[:50]
    ]
    return render(
        request,
        "notices/organization_subprocessors.html",
        {
            "subprocessors": subprocessors.published_subprocessors(),
            "changes": changes,
            "may_object": request.actor.role == Role.OWNER,
        },
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
