"""The privacy desk (/o/<org_slug>/privacy/): the queue of data-subject requests, each
request's page with its actions and timeline, and the organization's privacy settings.

Admins, owners and appointed privacy officers work the desk; the settings are the admins'.
Every action is a POST of its own form: access helper, form, service, redirect. A service's
RequestError (a step the request's state or the law does not allow) is shown on the form.
A one-use token in each form makes a double submission act once (a second "ask the person"
would mail them twice)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from contacts.access import visible_contacts
from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, requires_role
from privacy import deadlines
from privacy.forms import (
    AskForm,
    AssignForm,
    DenyForm,
    ExtendForm,
    GroupForm,
    IdentityForm,
    MoveForm,
    NoteForm,
    PrivacySettingsForm,
    QueueFilterForm,
    StaffRequestForm,
)
from privacy.models import PrivacyRequest, RequestEvent
from privacy.selectors import (
    desk_requests,
    earlier_requests,
    filter_queue,
    get_request_for,
    queue_counts,
    timeline,
    user_names,
)
from privacy.services import requests as services
from privacy.services.settings import update_privacy_settings

Event = RequestEvent.Kind
PAGE_SIZE = 25
SUBMISSION_SECONDS = 3600

desk_view = requires_role(read=Role.ADMIN, write=Role.ADMIN, privacy_officer=True)


# --- one-use form tokens ------------------------------------------------------------------------


def _token() -> str:
    return uuid.uuid4().hex


def _submission_key(request, token: str) -> str:
    return f"privacy-desk:{request.organization.pk}:{request.user.pk}:{token}"


def _claim(request, token: str):
    """None when this submission is the first with its token (or carries none); otherwise
    what the first one left: "pending" while it runs, then its result (a request id)."""
    if not token:
        return None
    key = _submission_key(request, token)
    if cache.add(key, "pending", SUBMISSION_SECONDS):
        return None
    return cache.get(key, "pending")


def _finish(request, token: str, result: int | None) -> None:
    """Keep the token as used (with its result), or free it when the form failed: the
    corrected form is sent again with the same token."""
    if not token:
        return
    key = _submission_key(request, token)
    if result is None:
        cache.delete(key)
    else:
        cache.set(key, result, SUBMISSION_SECONDS)


# --- the queue ------------------------------------------------------------------------------------


def _page_url(query: QueryDict, page: int) -> str:
    query = query.copy()
    query["page"] = str(page)
    return "?" + query.urlencode()


@desk_view
def queue(request, org_slug):
    time_zone = services.time_zone_of(request.organization)
    today = deadlines.today(time_zone)
    filter_form = QueueFilterForm(request.GET or None)
    filters = filter_form.filters()
    requests = desk_requests(request.actor)
    counts = queue_counts(requests, today=today)
    matches = filter_queue(
        requests.select_related("assigned_to"),
        today=today,
        state=filters["state"],
        right=filters["right"],
        assigned_to=request.user if filters["mine"] else None,
        overdue=filters["overdue"],
    )
    page = Paginator(matches, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for item in page.object_list:
        clock = services.clock(item, time_zone)
        rows.append({"item": item, "clock": clock, "overdue_by": -clock.days_left})
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter_form": filter_form,
        "filtered": bool(query),
        "page": page,
        "rows": rows,
        "counts": counts,
        "time_zone": time_zone,
        "previous_url": _page_url(query, page.previous_page_number()) if page.has_previous() else "",
        "next_url": _page_url(query, page.next_page_number()) if page.has_next() else "",
        "record_form": StaffRequestForm(
            organization=request.organization, time_zone=time_zone, initial={"submit_token": _token()}
        ),
    }
    return render(request, "privacy/desk/queue.html", context)


@desk_view
def record_request(request, org_slug):
    """A request received by letter, mail or phone. Its personal values come only by POST."""
    organization = request.organization
    time_zone = services.time_zone_of(organization)
    form = StaffRequestForm(
        request.POST or None, organization=organization, time_zone=time_zone, initial={"submit_token": _token()}
    )
    if request.method == "POST":
        token = request.POST.get("submit_token", "")
        earlier = _claim(request, token)
        if isinstance(earlier, int):
            return redirect("privacy_desk_request", org_slug=org_slug, request_id=earlier)
        created = None
        if earlier == "pending":
            form.is_valid()
            form.add_error(None, _("This form is already being saved. Wait a moment, then reload the page."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                created = services.submit_request(
                    organization=organization,
                    rights=data["rights"],
                    email=data["email"],
                    phone=data["phone"],
                    message=data["message"],
                    correction=data["correction"],
                    objects_to_marketing=data["objects_to_marketing"],
                    language=data["language"],
                    channel=PrivacyRequest.Channel.STAFF,
                    actor=request.user,
                    received_at=form.received_at(),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
        if earlier is None:
            _finish(request, token, created.pk if created else None)
        if created is not None:
            messages.success(request, _("Request %(reference)s recorded.") % {"reference": created.reference})
            return redirect("privacy_desk_request", org_slug=org_slug, request_id=created.pk)
    return render(request, "privacy/desk/record.html", {"form": form})


# --- one request ----------------------------------------------------------------------------------


def _candidates(request, privacy_request: PrivacyRequest) -> list:
    """Contacts matching the request's email or phone, each marked whether this member may
    open its page (under "own" visibility a privacy officer may not see every contact)."""
    found = services.candidates(privacy_request)
    if not found:
        return []
    visible = set(visible_contacts(request.actor).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True))
    for contact in found:
        contact.openable = contact.pk in visible
    return found


ALWAYS_SHOWN = ("assign", "note")
MAIL_NAMES = {
    "confirmation": _lazy("the confirmation link"),
    "reminder": _lazy("the reminder"),
    "receipt": _lazy("the receipt"),
    "info_requested": _lazy("the request for more information"),
    "extended": _lazy("the extension notice"),
    "denied": _lazy("the refusal, with the complaint and court rights"),
    "completed": _lazy("the answer"),
    "restriction_lifting": _lazy("the notice before lifting the restriction"),
}


def _timeline_entries(privacy_request: PrivacyRequest) -> list[dict]:
    """The events, newest first, each with a one-line summary of its details (which hold ids
    and names of rights, never personal values)."""
    events = list(timeline(privacy_request))
    names = user_names({e.details.get("assignee") for e in events if e.kind == Event.ASSIGNED} - {None})
    statuses = dict(PrivacyRequest.Status.choices)
    entries = []
    for event in events:
        details = event.details or {}
        summary = ""
        if event.kind == Event.ASSIGNED:
            assignee = details.get("assignee")
            summary = _("to %(name)s") % {"name": names.get(assignee, "?")} if assignee else _("to nobody")
        elif event.kind == Event.EXTENDED and details.get("due"):
            summary = _("new deadline %(day)s") % {"day": details["due"]}
        elif event.kind == Event.GROUPED:
            summary = _("answered with %(reference)s") % {"reference": details.get("earlier", "")}
        elif event.kind == Event.NOTE and details.get("grouped"):
            summary = _("%(reference)s was grouped with this request") % {"reference": details["grouped"]}
        elif event.kind == Event.STATUS_CHANGED:
            summary = str(statuses.get(details.get("status_to"), details.get("status_to", "")))
        elif event.kind == Event.PERSON_NOTIFIED:
            summary = str(MAIL_NAMES.get(details.get("mail"), details.get("mail", "")))
        elif event.kind == Event.DENIED and details.get("manifestly_unfounded"):
            summary = _("as manifestly unfounded or excessive")
        elif event.kind == Event.RECEIVED and details.get("channel"):
            summary = str(dict(PrivacyRequest.Channel.choices).get(details["channel"], ""))
        entries.append({"event": event, "summary": summary})
    return entries


def _detail_page(request, privacy_request: PrivacyRequest, bound: dict | None = None, status: int = 200):
    """The request's page; `bound` replaces one action's form with the one just submitted
    (with its errors)."""
    organization = request.organization
    found_settings = services.privacy_settings(organization)
    time_zone = found_settings.time_zone
    clock = services.clock(privacy_request, time_zone)
    forms = {
        "identity": IdentityForm(initial={"submit_token": _token()}),
        "assign": AssignForm(
            organization=organization,
            initial={"submit_token": _token(), "assignee": privacy_request.assigned_to_id},
        ),
        "note": NoteForm(initial={"submit_token": _token()}),
        "ask": AskForm(initial={"submit_token": _token()}),
        "extend": ExtendForm(initial={"submit_token": _token()}),
        "deny": DenyForm(initial={"submit_token": _token()}),
        "group": GroupForm(request=privacy_request, initial={"submit_token": _token()}),
        "move": MoveForm(initial={"submit_token": _token()}),
    }
    forms.update(bound or {})
    is_open = privacy_request.is_open
    # A closed request's page shows no action forms but these: an error of another (a
    # refusal sent from a page opened before someone else closed the request) goes on top.
    hidden_errors = [
        error
        for name, form in (bound or {}).items()
        if not is_open and name not in ALWAYS_SHOWN
        for error in form.non_field_errors()
    ]
    context = {
        "privacy_request": privacy_request,
        "clock": clock,
        "time_zone": time_zone,
        "candidates": _candidates(request, privacy_request) if is_open else [],
        "forms": forms,
        "identity_token": forms["identity"]["submit_token"].value(),
        "has_earlier": is_open and earlier_requests(privacy_request).exists(),
        "entries": _timeline_entries(privacy_request),
        "contact_openable": privacy_request.contact_id is not None
        and visible_contacts(request.actor).filter(pk=privacy_request.contact_id).exists(),
        "settings": found_settings,
        "hidden_errors": hidden_errors,
    }
    return render(request, "privacy/desk/request.html", context, status=status)


@desk_view
def request_detail(request, org_slug, request_id):
    return _detail_page(request, get_request_for(request.actor, request_id))


def _act(
    request,
    org_slug: str,
    request_id: int,
    name: str,
    form: Callable,
    perform: Callable,
    done: str,
):
    """One action on a request: bind its form, check the one-use token, call the service,
    redirect back to the request (or show the page with the form's errors)."""
    privacy_request = get_request_for(request.actor, request_id)
    bound = form(request.POST, privacy_request)
    token = request.POST.get("submit_token", "")
    earlier = _claim(request, token)
    if earlier is not None:
        messages.info(request, _("That was sent twice; it was done once."))
        return redirect("privacy_desk_request", org_slug=org_slug, request_id=privacy_request.pk)
    if bound.is_valid():
        try:
            perform(privacy_request, bound.cleaned_data)
        except ValidationError as exc:
            add_service_errors(bound, exc)
        else:
            _finish(request, token, privacy_request.pk)
            messages.success(request, done)
            return redirect("privacy_desk_request", org_slug=org_slug, request_id=privacy_request.pk)
    _finish(request, token, None)
    return _detail_page(request, privacy_request, bound={name: bound}, status=400)


@require_POST
@desk_view
def request_identity(request, org_slug, request_id):
    def perform(privacy_request, data):
        matches = {contact.pk: contact for contact in services.candidates(privacy_request)}
        contact = matches.get(data["contact"])
        if contact is None:
            raise services.RequestError(_("That contact does not match the request's email address or phone."))
        services.confirm_identity(privacy_request, contact=contact, actor=request.user)

    return _act(
        request,
        org_slug,
        request_id,
        "identity",
        lambda data, _r: IdentityForm(data),
        perform,
        _("Identity confirmed: the request is linked to the contact."),
    )


@require_POST
@desk_view
def request_assign(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "assign",
        lambda data, _r: AssignForm(data, organization=request.organization),
        lambda r, data: services.assign(r, assignee=data["assignee"], actor=request.user),
        _("Assignment saved."),
    )


@require_POST
@desk_view
def request_note(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "note",
        lambda data, _r: NoteForm(data),
        lambda r, data: services.add_note(r, note=data["note"], actor=request.user),
        _("Note added."),
    )


@require_POST
@desk_view
def request_ask(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "ask",
        lambda data, _r: AskForm(data),
        lambda r, data: services.ask_for_information(r, message=data["message"], actor=request.user),
        _("The person is asked for more information by email."),
    )


@require_POST
@desk_view
def request_extend(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "extend",
        lambda data, _r: ExtendForm(data),
        lambda r, data: services.extend(r, reason=data["reason"], actor=request.user),
        _("Deadline extended. The person is told by email."),
    )


@require_POST
@desk_view
def request_deny(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "deny",
        lambda data, _r: DenyForm(data),
        lambda r, data: services.deny(
            r, reason=data["reason"], actor=request.user, unfounded_justification=data["unfounded_justification"]
        ),
        _("Request refused. The person is told the reasons and their remedies by email."),
    )


@require_POST
@desk_view
def request_group(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "group",
        lambda data, r: GroupForm(data, request=r),
        lambda r, data: services.group_with(r, earlier=data["earlier"], actor=request.user),
        _("Grouped with the earlier request: one answer serves both."),
    )


@require_POST
@desk_view
def request_move(request, org_slug, request_id):
    return _act(
        request,
        org_slug,
        request_id,
        "move",
        lambda data, _r: MoveForm(data),
        lambda r, data: services.move_request(r, status=data["status"], actor=request.user),
        _("Status changed."),
    )


# --- settings -------------------------------------------------------------------------------------


@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def settings_page(request, org_slug):
    organization = request.organization
    found = services.privacy_settings(organization)
    form = PrivacySettingsForm(request.POST or None, initial=PrivacySettingsForm.initial_from(found))
    if request.method == "POST" and form.is_valid():
        try:
            update_privacy_settings(organization=organization, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Privacy settings saved."))
            return redirect("privacy_desk_settings", org_slug=org_slug)
    return render(request, "privacy/desk/settings.html", {"form": form})


urlpatterns = [
    path("", queue, name="privacy_desk"),
    path("requests/new/", record_request, name="privacy_desk_record"),
    path("requests/<int:request_id>/", request_detail, name="privacy_desk_request"),
    path("requests/<int:request_id>/identity/", request_identity, name="privacy_desk_identity"),
    path("requests/<int:request_id>/assign/", request_assign, name="privacy_desk_assign"),
    path("requests/<int:request_id>/note/", request_note, name="privacy_desk_note"),
    path("requests/<int:request_id>/ask/", request_ask, name="privacy_desk_ask"),
    path("requests/<int:request_id>/extend/", request_extend, name="privacy_desk_extend"),
    path("requests/<int:request_id>/deny/", request_deny, name="privacy_desk_deny"),
    path("requests/<int:request_id>/group/", request_group, name="privacy_desk_group"),
    path("requests/<int:request_id>/status/", request_move, name="privacy_desk_move"),
    path("settings/", settings_page, name="privacy_desk_settings"),
]
