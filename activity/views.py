"""Interactions, tasks, "My tasks" and the contact, company and deal timelines.

Thin views: guarded read (contacts.access, activity.selectors) → form → service
→ redirect or render. htmx requests get the partial they swap in; without JavaScript the
same URLs answer with whole pages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from activity.forms import InteractionForm, TaskForm
from activity.models import Interaction
from activity.selectors import (
    Cursor,
    get_interaction_for,
    get_task_for,
    my_tasks,
    participants_of,
    timeline,
    visible_contacts_or_none,
)
from activity.services import (
    MAX_PARTICIPANTS,
    complete_task,
    create_task,
    delete_interaction,
    delete_task,
    log_interaction,
    reopen_task,
    update_interaction,
    update_task,
)
from contacts.access import get_company_for, get_contact_for, picked, visible_companies, visible_contacts
from contacts.selectors import search_contacts
from deals.access import get_deal_for, visible_deals
from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, requires_role

PICKER_RESULTS = 10


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _page_of(org_slug: str, *, contact=None, company=None, deal=None) -> str:
    """The contact's, company's or deal's page; its timeline page while the detail page
    does not exist; else My tasks."""
    if deal is not None:
        return reverse("deal_detail", kwargs={"org_slug": org_slug, "deal_id": deal.pk})
    for name, obj in (("contact", contact), ("company", company)):
        if obj is not None:
            try:
                return reverse(f"{name}_detail", kwargs={"org_slug": org_slug, f"{name}_id": obj.pk})
            except NoReverseMatch:
                return reverse(f"{name}_timeline", kwargs={"org_slug": org_slug, f"{name}_id": obj.pk})
    return reverse("my_tasks", kwargs={"org_slug": org_slug})


class ObjectUrls:
    """URLs of many objects of a kind in one organization, each name reversed once: a
    timeline page links about a hundred objects, and a reverse() per link was a large
    part of its rendering time."""

    _SENTINEL = 987654321

    def __init__(self, org_slug: str) -> None:
        self.org_slug = org_slug
        self._patterns: dict[tuple[str, str], tuple[str, str] | None] = {}

    def __call__(self, name: str, kwarg: str, pk: int | None) -> str:
        if pk is None:
            return ""
        key = (name, kwarg)
        if key not in self._patterns:
            try:
                url = reverse(name, kwargs={"org_slug": self.org_slug, kwarg: self._SENTINEL})
            except NoReverseMatch:
                self._patterns[key] = None
            else:
                head, _sentinel, tail = url.rpartition(str(self._SENTINEL))
                self._patterns[key] = (head, tail)
        pattern = self._patterns[key]
        return "" if pattern is None else f"{pattern[0]}{pk}{pattern[1]}"

    def contact(self, pk: int | None) -> str:
        return self("contact_detail", "contact_id", pk) or self("contact_timeline", "contact_id", pk)

    def company(self, pk: int | None) -> str:
        return self("company_detail", "company_id", pk) or self("company_timeline", "company_id", pk)

    def deal(self, pk: int | None) -> str:
        return self("deal_detail", "deal_id", pk)


def _link_tasks(tasks, urls: ObjectUrls):
    for task in tasks:
        task.edit_url = urls("task_edit", "task_id", task.pk)
        task.toggle_url = urls("task_toggle", "task_id", task.pk)
        task.contact_url = urls.contact(task.contact_id)
        task.company_url = urls.company(task.company_id)
        task.deal_url = urls.deal(task.deal_id)
    return tasks


def _link_entries(entries, urls: ObjectUrls) -> None:
    for entry in entries:
        if entry.kind == "interaction":
            interaction = entry.object
            interaction.edit_url = urls("interaction_edit", "interaction_id", interaction.pk)
            interaction.company_url = urls.company(interaction.company_id)
            interaction.deal_url = urls.deal(interaction.deal_id)
            for person in entry.participants:
                person.page_url = urls.contact(person.pk)
        elif entry.kind == "task":
            _link_tasks([entry.object], urls)


def _can_write(request) -> bool:
    return request.actor.at_least(Role.MEMBER)


def _ids(values: list[str]) -> list[int]:
    found: list[int] = []
    for value in values:
        if value.isdigit() and int(value) not in found:
            found.append(int(value))
    return found[:MAX_PARTICIPANTS]


# --- Interactions -----------------------------------------------------------------------------


def _interaction_form(
    request, *, initial: dict, extra_companies: set[int], on_deal: bool = False
) -> tuple[InteractionForm, list]:
    """The form, and the chosen contacts to render in the picker (only those: the
    organization's contacts are never listed in full)."""
    data = request.POST if request.method == "POST" else None
    chosen_ids = _ids(data.getlist("contacts")) if data is not None else list(initial.get("contacts", []))
    chosen, company_choices = picked(request.actor, chosen_ids, extra_companies)
    form = InteractionForm(
        data,
        initial=initial,
        organization=request.organization,
        contacts=visible_contacts(request.actor),
        companies=visible_companies(request.actor),
        company_choices=company_choices,
        on_deal=on_deal,
    )
    return form, chosen


@requires_role(read=Role.MEMBER)
def interaction_create(request, org_slug, contact_id):
    contact = get_contact_for(request.actor, contact_id)
    initial = {"contacts": [contact.pk], "company": contact.company_id}
    form, chosen = _interaction_form(request, initial=initial, extra_companies=set())
    if request.method == "POST" and form.is_valid():
        try:
            log_interaction(organization=request.organization, actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(_safe_next(request) or _page_of(org_slug, contact=contact))
    context = {"form": form, "chosen": chosen, "contact": contact, "back": _page_of(org_slug, contact=contact)}
    return render(request, "activity/interaction_form.html", context)


@requires_role(read=Role.MEMBER)
def deal_interaction_create(request, org_slug, deal_id):
    """Log a call, note or meeting on a deal. The deal's contacts take part (the service
    adds them), so it shows on their timelines too; the form lists the ones the user sees."""
    deal = get_deal_for(request.actor, deal_id)
    people = list(visible_contacts(request.actor).filter(deals=deal).order_by("pk").values_list("pk", flat=True))
    initial = {"contacts": people, "company": deal.company_id, "kind": Interaction.Kind.CALL}
    extra = {deal.company_id} if deal.company_id else set()
    form, chosen = _interaction_form(request, initial=initial, extra_companies=extra, on_deal=True)
    back = _page_of(org_slug, deal=deal)
    if request.method == "POST" and form.is_valid():
        try:
            log_interaction(organization=request.organization, actor=request.user, deal=deal, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(_safe_next(request) or back)
    context = {"form": form, "chosen": chosen, "deal": deal, "back": back}
    return render(request, "activity/interaction_form.html", context)


@requires_role(read=Role.MEMBER)
def interaction_edit(request, org_slug, interaction_id):
    interaction = get_interaction_for(request.actor, interaction_id)
    visible = visible_contacts_or_none(request.actor)
    shown = participants_of(interaction, visible)
    # Participants this user may not see stay on the interaction: the form cannot show
    # them, so it must not drop them either.
    hidden = [c for c in participants_of(interaction) if c not in shown] if visible is not None else []
    initial = InteractionForm.initial_for(interaction, shown)
    extra = {interaction.company_id} if interaction.company_id else set()
    deal = interaction.deal
    form, chosen = _interaction_form(request, initial=initial, extra_companies=extra, on_deal=deal is not None)
    back = _safe_next(request) or _page_of(org_slug, contact=shown[0] if shown else None, deal=deal)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        kwargs["contacts"] = kwargs["contacts"] + hidden
        try:
            update_interaction(organization=request.organization, actor=request.user, interaction=interaction, **kwargs)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(back)
    context = {
        "form": form,
        "chosen": chosen,
        "interaction": interaction,
        "deal": deal,
        "back": back,
        "hidden_count": len(hidden),
    }
    return render(request, "activity/interaction_form.html", context)


@require_POST
def interaction_delete(request, org_slug, interaction_id):
    interaction = get_interaction_for(request.actor, interaction_id)
    shown = participants_of(interaction, visible_contacts_or_none(request.actor))
    back = _safe_next(request) or _page_of(org_slug, contact=shown[0] if shown else None, deal=interaction.deal)
    delete_interaction(organization=request.organization, actor=request.user, interaction=interaction)
    return HttpResponseRedirect(back)


@require_POST
@requires_role(read=Role.MEMBER)
def interaction_participants(request, org_slug):
    """Search-as-you-type for the participant picker: the contacts already chosen (kept
    checked) and the first matches of the typed name prefix. POSTed: a name typed into a
    query string would reach the access log."""
    chosen_ids = _ids(request.POST.getlist("contacts"))
    chosen = list(visible_contacts(request.actor).filter(pk__in=chosen_ids)) if chosen_ids else []
    chosen.sort(key=lambda contact: chosen_ids.index(contact.pk))
    query = " ".join(request.POST.get("q", "").split())[:100]
    results = []
    if query:
        found = [c for c in search_contacts(request.organization, query, limit=PICKER_RESULTS * 2) if c not in chosen]
        if visible_contacts_or_none(request.actor) is not None and found:
            allowed = set(
                visible_contacts(request.actor).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True)
            )
            found = [c for c in found if c.pk in allowed]
        results = found[:PICKER_RESULTS]
    context = {"chosen": chosen, "results": results, "query": query}
    return render(request, "activity/_participant_picker.html", context)


# --- Tasks ------------------------------------------------------------------------------------


def _task_form(request, *, initial: dict) -> TaskForm:
    return TaskForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        organization=request.organization,
        contacts=visible_contacts(request.actor),
        companies=visible_companies(request.actor),
        deals=visible_deals(request.actor),
    )


@requires_role(read=Role.MEMBER)
def task_create(request, org_slug):
    contact = company = deal = None
    source = request.POST if request.method == "POST" else request.GET
    if source.get("contact", "").isdigit():
        contact = get_contact_for(request.actor, int(source["contact"]))
    if source.get("company", "").isdigit():
        company = get_company_for(request.actor, int(source["company"]))
    if source.get("deal", "").isdigit():
        deal = get_deal_for(request.actor, int(source["deal"]))
    initial = {
        "assignee": request.user.pk,
        "contact": getattr(contact, "pk", None),
        "company": getattr(company, "pk", None),
        "deal": getattr(deal, "pk", None),
    }
    form = _task_form(request, initial=initial)
    back = _safe_next(request) or _page_of(org_slug, contact=contact, company=company, deal=deal)
    if request.method == "POST" and form.is_valid():
        try:
            create_task(organization=request.organization, actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(back)
    context = {"form": form, "contact": contact, "company": company, "deal": deal, "back": back}
    return render(request, "activity/task_form.html", context)


@requires_role(read=Role.MEMBER)
def task_edit(request, org_slug, task_id):
    task = get_task_for(request.actor, task_id)
    form = _task_form(request, initial=TaskForm.initial_for(task))
    back = _safe_next(request) or _page_of(org_slug, contact=task.contact, company=task.company, deal=task.deal)
    if request.method == "POST" and form.is_valid():
        try:
            update_task(organization=request.organization, actor=request.user, task=task, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return HttpResponseRedirect(back)
    context = {
        "form": form,
        "task": task,
        "contact": task.contact,
        "company": task.company,
        "deal": task.deal,
        "back": back,
    }
    return render(request, "activity/task_form.html", context)


@require_POST
def task_toggle(request, org_slug, task_id):
    """Done ↔ not done. htmx swaps the returned row in place; a plain form post goes
    back where it came from."""
    task = get_task_for(request.actor, task_id)
    change = reopen_task if task.done_at else complete_task
    task = change(organization=request.organization, actor=request.user, task=task)
    if request.htmx:
        now = timezone.now()
        _link_tasks([task], ObjectUrls(org_slug))
        context = {
            "task": task,
            "can_write": True,
            "overdue": task.done_at is None and task.due_at is not None and task.due_at < now,
            "next_url": _safe_next(request) or reverse("my_tasks", kwargs={"org_slug": org_slug}),
            "show_related": request.POST.get("show_related") == "1",
        }
        return render(request, "activity/_task_row.html", context)
    return HttpResponseRedirect(_safe_next(request) or reverse("my_tasks", kwargs={"org_slug": org_slug}))


@require_POST
def task_delete(request, org_slug, task_id):
    task = get_task_for(request.actor, task_id)
    back = _safe_next(request) or _page_of(org_slug, contact=task.contact, company=task.company, deal=task.deal)
    delete_task(organization=request.organization, actor=request.user, task=task)
    return HttpResponseRedirect(back)


def my_tasks_page(request, org_slug):
    tasks = my_tasks(request.organization, request.user)
    urls = ObjectUrls(org_slug)
    for group in (tasks.overdue, tasks.today, tasks.upcoming, tasks.done):
        _link_tasks(group, urls)
    groups = [
        ("overdue", _("Overdue"), tasks.overdue, _("Nothing overdue."), True),
        ("today", _("Today"), tasks.today, _("Nothing else due today."), False),
        ("upcoming", _("Upcoming"), tasks.upcoming, _("Nothing planned after today."), False),
    ]
    context = {"tasks": tasks, "groups": groups, "can_write": _can_write(request), "next_url": request.get_full_path()}
    return render(request, "activity/my_tasks.html", context)


# --- Timelines --------------------------------------------------------------------------------


def _timeline_response(request, *, contact=None, company=None, deal=None, url: str):
    cursor = Cursor.decode(request.GET.get("before"))
    page = timeline(
        organization=request.organization,
        contact=contact,
        company=company,
        deal=deal,
        cursor=cursor,
        visible=visible_contacts_or_none(request.actor),
        viewer=request.user,
    )
    _link_entries(page.entries, ObjectUrls(request.organization.slug))
    context = {
        "page": page,
        "can_write": _can_write(request),
        "contact": contact,
        "company": company,
        "deal": deal,
        "older_url": f"{url}?before={page.next_cursor.encode()}" if page.next_cursor else "",
        "is_first_page": cursor is None,
        # Where edit forms and toggles return to: the page the timeline is shown on.
        "next_url": (request.htmx.current_url_abs_path if request.htmx else None) or request.get_full_path(),
    }
    if request.htmx:
        return render(request, "activity/_timeline_page.html", context)
    context["back"] = _page_of(request.organization.slug, contact=contact, company=company, deal=deal)
    return render(request, "activity/timeline.html", context)


def contact_timeline(request, org_slug, contact_id):
    contact = get_contact_for(request.actor, contact_id)
    url = reverse("contact_timeline", kwargs={"org_slug": org_slug, "contact_id": contact.pk})
    return _timeline_response(request, contact=contact, url=url)


def company_timeline(request, org_slug, company_id):
    company = get_company_for(request.actor, company_id)
    url = reverse("company_timeline", kwargs={"org_slug": org_slug, "company_id": company.pk})
    return _timeline_response(request, company=company, url=url)


def deal_timeline(request, org_slug, deal_id):
    deal = get_deal_for(request.actor, deal_id)
    url = reverse("deal_timeline", kwargs={"org_slug": org_slug, "deal_id": deal.pk})
    return _timeline_response(request, deal=deal, url=url)


urlpatterns = [
    path("contacts/<int:contact_id>/interactions/new/", interaction_create, name="interaction_create"),
    path("contacts/<int:contact_id>/timeline/", contact_timeline, name="contact_timeline"),
    path("companies/<int:company_id>/timeline/", company_timeline, name="company_timeline"),
    path("deals/<int:deal_id>/timeline/", deal_timeline, name="deal_timeline"),
    path("deals/<int:deal_id>/interactions/new/", deal_interaction_create, name="deal_interaction_create"),
    path("interactions/participants/", interaction_participants, name="interaction_participants"),
    path("interactions/<int:interaction_id>/edit/", interaction_edit, name="interaction_edit"),
    path("interactions/<int:interaction_id>/delete/", interaction_delete, name="interaction_delete"),
    path("tasks/", my_tasks_page, name="my_tasks"),
    path("tasks/new/", task_create, name="task_create"),
    path("tasks/<int:task_id>/edit/", task_edit, name="task_edit"),
    path("tasks/<int:task_id>/toggle/", task_toggle, name="task_toggle"),
    path("tasks/<int:task_id>/delete/", task_delete, name="task_delete"),
]
