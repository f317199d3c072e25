"""Fulfilment actions on the privacy desk, and the download of a package by the person.

Each desk action is a POST that calls one service of privacy/services/fulfilment.py and
comes back to the request's page (POST/redirect/GET); a refusal (RequestError) comes back
as a message saying why."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logicnet.jobs.models import Job
from logicnet.ratelimit import consume
from logicnet.tenancy.public import public_page
from logicnet.tenancy.roles import Role, requires_role
from privacy.forms_fulfilment import RectificationForm
from privacy.models import PrivacyRequest
from privacy.services import fulfilment
from privacy.services.requests import RequestError, apply_marketing_objection, request_from_status_token

DESK = {"read": Role.ADMIN, "write": Role.ADMIN, "privacy_officer": True}


def _request_for(request, request_id: int) -> PrivacyRequest:
    return get_object_or_404(
        PrivacyRequest.objects.select_related("contact", "organization"),
        organization=request.organization,
        pk=request_id,
    )


def _back(org_slug: str, request_id: int):
    return redirect("privacy_desk_request", org_slug=org_slug, request_id=request_id)


def _run(request, action, *args, done: str = "", **kwargs) -> None:
    try:
        action(*args, **kwargs)
    except RequestError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if done:
            messages.success(request, done)


@require_POST
@requires_role(**DESK)
def package_start(request, org_slug, request_id):
    privacy_request = _request_for(request, request_id)
    _run(request, fulfilment.start_package, privacy_request, kind=request.POST.get("kind", ""), actor=request.user)
    return _back(org_slug, request_id)


@requires_role(**DESK)
def request_job(request, org_slug, request_id, privacy_job_id):
    """The progress of a package or erasure job, polled by the request page."""
    privacy_request = _request_for(request, request_id)
    job = get_object_or_404(
        Job.objects.filter(kind__in=[fulfilment.PACKAGE_JOB, fulfilment.ERASURE_JOB]),
        organization=request.organization,
        pk=privacy_job_id,
        params__request_id=privacy_request.pk,
    )
    # Once the job is over, the request's status badge above changes with it (out of band).
    context = {"job": job, "privacy_request": privacy_request, "status_out_of_band": True}
    return render(request, "privacy/desk/_job.html", context)


@requires_role(**DESK)
def erasure_preview(request, org_slug, request_id):
    privacy_request = _request_for(request, request_id)
    try:
        plan, fingerprint = fulfilment.erasure_preview(privacy_request)
    except RequestError as exc:
        messages.error(request, exc.messages[0])
        return _back(org_slug, request_id)
    for step in plan["steps"]:
        step["name"] = _records_name(step["model"])
    context = {
        "privacy_request": privacy_request,
        "plan": plan,
        "fingerprint": fingerprint,
        "holds": fulfilment.legal_holds_of(privacy_request),
    }
    return render(request, "privacy/desk/erasure_preview.html", context)


def _records_name(label: str) -> str:
    """What staff call a model's rows ("Interactions"), rather than its label."""
    from django.apps import apps
    from django.utils.text import capfirst

    try:
        return capfirst(apps.get_model(label)._meta.verbose_name_plural)
    except LookupError:
        return label


@require_POST
@requires_role(**DESK)
def erasure_confirm(request, org_slug, request_id):
    privacy_request = _request_for(request, request_id)
    _run(
        request,
        fulfilment.start_erasure,
        privacy_request,
        fingerprint=request.POST.get("fingerprint", ""),
        actor=request.user,
    )
    return _back(org_slug, request_id)


@require_POST
@requires_role(**DESK)
def erasure_withhold(request, org_slug, request_id):
    """A legal hold keeps the person's data: tell them, keep the request open (Art. 17(3)(e))."""
    privacy_request = _request_for(request, request_id)
    _run(
        request,
        fulfilment.withhold_erasure,
        privacy_request,
        actor=request.user,
        done=_("The person is told that a legal hold keeps their data for now."),
    )
    return _back(org_slug, request_id)


@require_POST
@requires_role(**DESK)
def restriction(request, org_slug, request_id):
    privacy_request = _request_for(request, request_id)
    if request.POST.get("lift"):
        _run(request, fulfilment.lift_restriction, privacy_request, actor=request.user)
    else:
        _run(request, fulfilment.restrict, privacy_request, actor=request.user)
    return _back(org_slug, request_id)


@require_POST
@requires_role(**DESK)
def objection(request, org_slug, request_id):
    privacy_request = _request_for(request, request_id)
    if request.POST.get("marketing"):
        apply_marketing_objection(privacy_request, actor=request.user)
    else:
        _run(
            request,
            fulfilment.decide_objection,
            privacy_request,
            upheld=request.POST.get("upheld") == "yes",
            reasons=request.POST.get("reasons", ""),
            actor=request.user,
        )
    return _back(org_slug, request_id)


@requires_role(**DESK)
def rectification(request, org_slug, request_id):
    """The person's proposed correction beside the current values; staff edit and apply."""
    privacy_request = _request_for(request, request_id)
    contact = privacy_request.contact
    if contact is None:
        messages.error(request, _("Confirm who the person is first: choose the matching contact."))
        return _back(org_slug, request_id)
    form = RectificationForm(request.POST or None, contact=contact, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            form.add_error(None, _("Nothing was changed."))
        else:
            try:
                fulfilment.apply_rectification(privacy_request, data=changes, actor=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The correction was applied; the recipients are listed on the request."))
                return _back(org_slug, request_id)
    context = {
        "privacy_request": privacy_request,
        "form": form,
        "recipients": fulfilment.recipients_of(privacy_request),
    }
    return render(request, "privacy/desk/rectification.html", context)


# --- the person's side ---------------------------------------------------------------------------


@public_page
def download(request, org_slug, token):
    """A download link from the mail: the package, decrypted, as a zip."""
    opened = fulfilment.open_download(request.public_organization, token)
    if opened is None:
        raise Http404
    privacy_request, kind, content = opened
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{privacy_request.reference}-{kind}.zip"'
    return response


@require_POST
@public_page
def request_download_link(request, org_slug, token):
    """From the status page: mail a fresh download link to the confirmed address."""
    privacy_request = request_from_status_token(request.public_organization, token)
    if privacy_request is None:
        raise Http404
    # Each press mails the person: a few an hour per request, whoever presses.
    if not consume(scope="privacy-download-link", identity=str(privacy_request.pk), limit=3, period=3600):
        messages.error(request, _("A download link was sent several times in the last hour. Check your mailbox."))
    elif fulfilment.send_download_link(privacy_request):
        messages.success(request, _("A download link is on its way to your email address."))
    else:
        messages.error(request, _("There is no package to download for this request."))
    return redirect("privacy_request_status", org_slug=org_slug, token=token)
