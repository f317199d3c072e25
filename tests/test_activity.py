"""Interactions, tasks, "My tasks" and the contact and company timelines."""

from __future__ import annotations

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from activity.models import Interaction, InteractionParticipant, Task
from activity.selectors import TIMELINE_PAGE_SIZE, Cursor, my_tasks, timeline
from activity.services import (
    complete_task,
    create_task,
    delete_interaction,
    log_interaction,
    update_interaction,
)
from contacts.models import Contact
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.encryption.keys import flush_encryption_counts
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user
from tests.shared_fixtures import naughty_strings

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, organization, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


def contact(organization, actor, first: str, last: str = "", **data):
    return create_contact(organization=organization, actor=actor, data={"first_name": first, "last_name": last, **data})


@pytest.fixture
def ana(org_a, alice):
    return contact(org_a, alice, "Ana", "Pop", email="ana@example.com")


@pytest.fixture
def ion(org_a, alice):
    return contact(org_a, alice, "Ion", "Ionescu")


@pytest.fixture
def company(org_a, alice):
    return create_company(organization=org_a, actor=alice, name="Alfa Construct SRL")


@pytest.fixture
def stranger(org_b, charlie):
    return contact(org_b, charlie, "Ana", "Străină")


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com", "Read Only")
    make_member(org_a, user, Role.READ_ONLY)
    return user


def at(days: float = 0, **kwargs) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days, **kwargs)


def log(organization, actor, contacts, *, when=None, subject="Call", company=None, kind=Interaction.Kind.CALL):
    return log_interaction(
        organization=organization,
        actor=actor,
        kind=kind,
        occurred_at=when or timezone.now(),
        subject=subject,
        body="",
        contacts=contacts,
        company=company,
    )


# --- interactions -----------------------------------------------------------------------------


def test_an_interaction_has_several_participants_carrying_its_time(org_a, alice, ana, ion, company):
    when = at(-1)
    interaction = log(org_a, alice, [ana, ion, ana], when=when, subject="Quarterly review", company=company)
    with tenant_context(org_a):
        rows = list(InteractionParticipant.objects.filter(interaction=interaction).order_by("contact_id"))
        assert [row.contact_id for row in rows] == sorted([ana.pk, ion.pk])
        assert {row.occurred_at for row in rows} == {when}
        stored = Interaction.objects.get(pk=interaction.pk)
        assert (stored.subject, stored.author, stored.company) == ("Quarterly review", alice, company)
        event = AuditEvent.objects.filter(action="interaction.logged", target_id=str(interaction.pk)).get()
    # The audit row says what happened, never what was said.
    assert event.details == {"kind": "call", "participants": 2}
    assert "Quarterly" not in str(event.details)


def test_an_interaction_needs_a_contact_of_its_own_organization(org_a, alice, ana, stranger):
    with pytest.raises(ValidationError):
        log(org_a, alice, [])
    with pytest.raises(ValidationError):
        log(org_a, alice, [ana, stranger])
    with tenant_context(org_a):
        assert not Interaction.objects.exists()


def test_updating_moves_every_participant_row_and_delete_removes_them(org_a, alice, ana, ion):
    interaction = log(org_a, alice, [ana])
    later = at(-2)
    update_interaction(
        organization=org_a,
        actor=alice,
        interaction=interaction,
        kind=Interaction.Kind.MEETING,
        occurred_at=later,
        subject="Moved",
        body="Body",
        contacts=[ion],
    )
    with tenant_context(org_a):
        rows = list(
            InteractionParticipant.objects.filter(interaction=interaction).values_list("contact_id", "occurred_at")
        )
        assert rows == [(ion.pk, later)]
    interaction_id = interaction.pk
    delete_interaction(organization=org_a, actor=alice, interaction=interaction)
    with tenant_context(org_a):
        assert not InteractionParticipant.objects.exists()
        assert AuditEvent.objects.filter(action="interaction.deleted", target_id=str(interaction_id)).exists()


def test_log_interaction_page_preselects_the_contact_and_saves_several(client, org_a, alice, ana, ion):
    client.force_login(alice)
    page = client.get(url("interaction_create", org_a, contact_id=ana.pk))
    assert page.status_code == 200
    assert f'name="contacts" value="{ana.pk}" checked' in page.content.decode()
    response = client.post(
        url("interaction_create", org_a, contact_id=ana.pk),
        {
            "kind": "meeting",
            "date": "2025-03-04",
            "time": "14:30",
            "subject": "Site visit",
            "body": "Walked the site.",
            "contacts": [ana.pk, ion.pk],
            "company": "",
        },
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        interaction = Interaction.objects.get()
        assert set(interaction.participants.values_list("pk", flat=True)) == {ana.pk, ion.pk}
        assert timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%d %H:%M") == "2025-03-04 14:30"


def test_a_contact_of_another_organization_is_refused_by_the_form(client, org_a, alice, ana, stranger):
    client.force_login(alice)
    response = client.post(
        url("interaction_create", org_a, contact_id=ana.pk),
        {"kind": "note", "date": "2025-03-04", "time": "10:00", "subject": "x", "contacts": [ana.pk, stranger.pk]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contacts"]
    with tenant_context(org_a):
        assert not Interaction.objects.exists()


def test_an_interaction_without_contacts_says_so(client, org_a, alice, ana):
    client.force_login(alice)
    response = client.post(
        url("interaction_create", org_a, contact_id=ana.pk), {"kind": "note", "date": "2025-03-04", "time": "10:00"}
    )
    assert response.status_code == 200
    assert "Choose at least one contact." in response.content.decode()


def test_edit_and_delete_pages(client, org_a, alice, ana, ion):
    interaction = log(org_a, alice, [ana], subject="Before")
    client.force_login(alice)
    page = client.get(url("interaction_edit", org_a, interaction_id=interaction.pk))
    assert page.status_code == 200 and "Before" in page.content.decode()
    response = client.post(
        url("interaction_edit", org_a, interaction_id=interaction.pk),
        {"kind": "email", "date": "2025-01-02", "time": "08:00", "subject": "After", "contacts": [ana.pk, ion.pk]},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        interaction.refresh_from_db()
        assert interaction.subject == "After" and interaction.kind == "email"
        assert InteractionParticipant.objects.filter(interaction=interaction).count() == 2
    response = client.post(url("interaction_delete", org_a, interaction_id=interaction.pk))
    assert response.status_code == 302
    with tenant_context(org_a):
        assert not Interaction.objects.exists()


def test_participant_picker_searches_by_name_prefix_and_keeps_the_chosen(client, org_a, alice, ana, ion, stranger):
    contact(org_a, alice, "Anca", "Dobre")
    client.force_login(alice)
    response = client.post(url("interaction_participants", org_a), {"q": "an", "contacts": [ion.pk]}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{ion.pk}" checked' in body
    assert "Ana Pop" in body and "Anca Dobre" in body
    assert "Străină" not in body  # organization B's look-alike
    assert client.post(url("interaction_participants", org_a), {"q": "zz"}).status_code == 200
    # The typed name never travels in a URL (it would reach the access log).
    assert client.get(url("interaction_participants", org_a), {"q": "an"}).status_code == 405


def test_own_visibility_hides_other_members_interactions(client, org_a, alice, bob, ana):
    with tenant_context(org_a):  # only the active organization's row can change
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
    interaction = log(org_a, alice, [ana])
    client.force_login(bob)
    assert client.get(url("interaction_edit", org_a, interaction_id=interaction.pk)).status_code == 404
    assert client.get(url("contact_timeline", org_a, contact_id=ana.pk)).status_code == 404


def test_own_visibility_hides_unseen_contacts_on_a_company_timeline(client, org_a, alice, bob, ana, company):
    with tenant_context(org_a):  # only the active organization's row can change
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
    bobs = create_contact(organization=org_a, actor=bob, data={"first_name": "Dan", "last_name": "Dinu"})
    with tenant_context(org_a):
        Contact.objects.filter(pk=bobs.pk).update(owner=bob)
    hidden = log(org_a, alice, [ana], company=company, subject="Hidden from the member")
    shared = log(org_a, alice, [ana, bobs], company=company, subject="Seen by the member")
    client.force_login(bob)
    walked = _walk(client, url("company_timeline", org_a, company_id=company.pk))
    assert walked == [("interaction", shared.pk)]
    body = client.get(url("company_timeline", org_a, company_id=company.pk), **HTMX).content.decode()
    assert "Dan Dinu" in body and "Ana Pop" not in body
    assert client.get(url("interaction_edit", org_a, interaction_id=hidden.pk)).status_code == 404


# --- tasks ------------------------------------------------------------------------------------


def test_task_pages_create_edit_toggle_delete(client, org_a, alice, bob, ana):
    client.force_login(alice)
    page = client.get(url("task_create", org_a) + f"?contact={ana.pk}")
    assert page.status_code == 200 and "Ana Pop" in page.content.decode()
    response = client.post(
        url("task_create", org_a),
        {"title": "Send the offer", "due_date": "2030-05-06", "due_time": "", "assignee": bob.pk, "contact": ana.pk},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        task = Task.objects.get()
        assert (task.title, task.assignee, task.contact, task.created_by) == ("Send the offer", bob, ana, alice)
        assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == "2030-05-06 09:00"

    response = client.post(
        url("task_edit", org_a, task_id=task.pk),
        {"title": "Send the signed offer", "due_date": "2030-05-07", "due_time": "15:00", "assignee": alice.pk,
         "contact": ana.pk},
    )  # fmt: skip
    assert response.status_code == 302
    with tenant_context(org_a):
        task.refresh_from_db()
        assert task.title == "Send the signed offer" and task.assignee == alice

    row = client.post(url("task_toggle", org_a, task_id=task.pk), **HTMX)
    assert row.status_code == 200
    assert 'class="task-row is-done"' in row.content.decode()
    with tenant_context(org_a):
        task.refresh_from_db()
        assert task.done_at is not None
    row = client.post(url("task_toggle", org_a, task_id=task.pk), **HTMX)
    assert "is-done" not in row.content.decode()
    assert client.post(url("task_toggle", org_a, task_id=task.pk)).status_code == 302  # without htmx

    assert client.post(url("task_delete", org_a, task_id=task.pk)).status_code == 302
    with tenant_context(org_a):
        assert not Task.objects.exists()
        actions = list(AuditEvent.objects.filter(target_type="task").order_by("pk").values_list("action", flat=True))
    assert actions == [
        "task.created",
        "task.updated",
        "task.completed",
        "task.reopened",
        "task.completed",
        "task.deleted",
    ]


def test_task_assignee_must_be_a_member(client, org_a, alice, charlie, ana):
    with pytest.raises(ValidationError):
        create_task(organization=org_a, actor=alice, title="x", due_at=None, assignee=charlie, contact=ana)
    client.force_login(alice)
    response = client.post(url("task_create", org_a), {"title": "x", "assignee": charlie.pk})
    assert response.status_code == 200 and response.context["form"].errors["assignee"]


def test_task_for_another_organizations_contact_is_404(client, org_a, alice, stranger):
    client.force_login(alice)
    assert client.get(url("task_create", org_a) + f"?contact={stranger.pk}").status_code == 404
    assert client.post(url("task_create", org_a), {"title": "x", "contact": stranger.pk}).status_code == 404


def test_my_tasks_groups_by_the_organizations_day(org_a, alice, bob, ana):
    # 10:00 in Bucharest: "today" runs until midnight there, not in UTC.
    now = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    tasks = {
        name: create_task(organization=org_a, actor=alice, title=name, due_at=due, assignee=alice, contact=ana)
        for name, due in [
            ("last week", now - datetime.timedelta(days=7)),
            ("an hour ago", now - datetime.timedelta(hours=1)),
            ("this evening", now + datetime.timedelta(hours=13, minutes=59)),
            ("tomorrow", now + datetime.timedelta(hours=14)),
            ("someday", None),
        ]
    }
    create_task(organization=org_a, actor=alice, title="bob's", due_at=now, assignee=bob)
    with tenant_context(org_a):
        complete_task(organization=org_a, actor=alice, task=tasks["last week"])
        grouped = my_tasks(org_a, alice, now=now)
        # Read inside the context: the key cache serves only the active organization.
        assert [t.title for t in grouped.overdue] == ["an hour ago"]
        assert [t.title for t in grouped.today] == ["this evening"]
        assert [t.title for t in grouped.upcoming] == ["tomorrow", "someday"]
        assert [t.title for t in grouped.done] == ["last week"]


def test_my_tasks_page(client, org_a, alice, ana, django_assert_max_num_queries):
    client.force_login(alice)
    empty = client.get(url("my_tasks", org_a))
    assert empty.status_code == 200 and "No tasks assigned to you." in empty.content.decode()
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
    later_today = timezone.now() + (midnight - timezone.now()) / 2
    for title, due in [("Overdue one", at(-2)), ("Today one", later_today), ("Upcoming one", at(3))]:
        create_task(organization=org_a, actor=alice, title=title, due_at=due, assignee=alice, contact=ana)
    for n in range(20):
        create_task(organization=org_a, actor=alice, title=f"More {n}", due_at=at(5), assignee=alice, contact=ana)
    # Two of them: the request acts for its user (app.user_id), and the organization's block
    # hands the setting back to the request's on its way out.
    with django_assert_max_num_queries(22):
        body = client.get(url("my_tasks", org_a)).content.decode()
    overdue, today, upcoming = (body.index(f'id="tasks-{key}"') for key in ("overdue", "today", "upcoming"))
    assert overdue < body.index("Overdue one") < today < body.index("Today one") < upcoming < body.index("Upcoming one")
    assert "Ana Pop" in body


# --- timelines --------------------------------------------------------------------------------


def _walk(client, first_url: str) -> list[tuple[str, int]]:
    """Every entry of a timeline, following the htmx "Older" links page by page."""
    import re

    seen, next_url = [], first_url
    while next_url:
        body = client.get(next_url, **HTMX).content.decode()
        seen += [(kind, int(pk)) for kind, pk in re.findall(r'data-entry="(\w+)-(\d+)"', body)]
        found = re.search(r'hx-get="([^"]+before=[^"]+)"', body)
        next_url = html.unescape(found.group(1)) if found else None
    return seen


def test_contact_timeline_is_newest_first_and_pages_without_gaps(client, org_a, alice, ana, ion):
    base = at(-30)
    interactions = []
    for n in range(60):
        # Groups of three share a microsecond: the cursor's tie-break must hold.
        interactions.append(log(org_a, alice, [ana, ion], when=base + datetime.timedelta(hours=n // 3)))
    log(org_a, alice, [ion])  # someone else's
    tasks = [
        create_task(organization=org_a, actor=alice, title=f"t{n}", due_at=base + datetime.timedelta(hours=n * 2),
                    assignee=alice, contact=ana)
        for n in range(6)
    ]  # fmt: skip
    undated = create_task(organization=org_a, actor=alice, title="no date", due_at=None, assignee=alice, contact=ana)

    entries = [(i.occurred_at, "interaction", i.pk) for i in interactions]
    entries += [(t.due_at, "task", t.pk) for t in tasks] + [(undated.created_at, "task", undated.pk)]
    expected = [(kind, pk) for _at, kind, pk in sorted(entries, reverse=True)]

    client.force_login(alice)
    walked = _walk(client, url("contact_timeline", org_a, contact_id=ana.pk))
    assert walked == expected
    assert len(walked) == 67 > 2 * TIMELINE_PAGE_SIZE

    # The whole page without htmx, with its own link to the older page.
    page = client.get(url("contact_timeline", org_a, contact_id=ana.pk))
    assert page.status_code == 200 and "<h1>" in page.content.decode()


def test_cursor_round_trips_and_ignores_garbage():
    cursor = Cursor(at=timezone.now(), kind="interaction", pk=42)
    assert Cursor.decode(cursor.encode()) == cursor
    for garbage in ["", "x", "1.2", "a.b.c", "99999999999999999999999.task.1", "1.task.-"]:
        assert Cursor.decode(garbage) is None


def test_timeline_query_count_does_not_grow_with_history(client, org_a, alice, ana, ion, company):
    client.force_login(alice)
    timeline_url = url("contact_timeline", org_a, contact_id=ana.pk)

    def count() -> int:
        flush_encryption_counts()  # the setup's writes, not the page's (see tests/conftest.py)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(timeline_url, **HTMX).status_code == 200
        return len(queries)

    log(org_a, alice, [ana, ion], company=company)
    create_task(organization=org_a, actor=alice, title="t", due_at=at(1), assignee=alice, contact=ana)
    count()  # the first request of a session does some things once
    small = count()
    for n in range(200):
        log(org_a, alice, [ana, ion], when=at(-n), company=company if n % 2 else None)
    for n in range(10):
        create_task(organization=org_a, actor=alice, title=f"t{n}", due_at=at(-n), assignee=alice, contact=ana)
    assert count() == small
    # Most are the session, two-factor and membership checks; one sets the request's acting
    # user (app.user_id), one hands it back when the organization's block ends.
    assert small <= 20, small


def test_company_timeline_shows_its_interactions_and_tasks(client, org_a, alice, ana, ion, company):
    mine = log(org_a, alice, [ana], company=company, subject="With the company", when=at(-1))
    log(org_a, alice, [ion], subject="Not about the company")
    task = create_task(organization=org_a, actor=alice, title="Company task", due_at=at(2), assignee=alice,
                       company=company)  # fmt: skip
    client.force_login(alice)
    walked = _walk(client, url("company_timeline", org_a, company_id=company.pk))
    assert walked == [("task", task.pk), ("interaction", mine.pk)]
    body = client.get(url("company_timeline", org_a, company_id=company.pk), **HTMX).content.decode()
    assert "With the company" in body and "Not about the company" not in body and "Ana Pop" in body


def test_timeline_selector_rejects_both_or_neither(org_a, ana, company):
    with tenant_context(org_a), pytest.raises(ValueError):
        timeline(organization=org_a)
    with tenant_context(org_a), pytest.raises(ValueError):
        timeline(organization=org_a, contact=ana, company=company)


def test_timeline_partials_load_through_htmx(client, org_a, alice, ana, company):
    client.force_login(alice)
    body = client.get(url("contact_detail", org_a, contact_id=ana.pk)).content.decode()
    assert f'hx-get="{url("contact_timeline", org_a, contact_id=ana.pk)}"' in body
    body = client.get(url("company_detail", org_a, company_id=company.pk)).content.decode()
    assert f'hx-get="{url("company_timeline", org_a, company_id=company.pk)}"' in body


def test_empty_timeline_says_so(client, org_a, alice, ana):
    client.force_login(alice)
    body = client.get(url("contact_timeline", org_a, contact_id=ana.pk), **HTMX).content.decode()
    assert "No interactions or tasks with this contact yet." in body


# --- who may do what --------------------------------------------------------------------------


@pytest.fixture
def objects(org_a, alice, ana, company):
    interaction = log(org_a, alice, [ana], company=company)
    task = create_task(organization=org_a, actor=alice, title="t", due_at=at(1), assignee=alice, contact=ana)
    return {"contact_id": ana.pk, "company_id": company.pk, "interaction_id": interaction.pk, "task_id": task.pk}


MY_URLS = {
    "interaction_create": ["contact_id"],
    "interaction_edit": ["interaction_id"],
    "interaction_delete": ["interaction_id"],
    "interaction_participants": [],
    "task_create": [],
    "task_edit": ["task_id"],
    "task_toggle": ["task_id"],
    "task_delete": ["task_id"],
    "my_tasks": [],
    "contact_timeline": ["contact_id"],
    "company_timeline": ["company_id"],
}


@pytest.mark.parametrize("name", sorted(MY_URLS))
def test_outsider_gets_404_everywhere(client, name, org_a, org_b, charlie, objects):
    client.force_login(charlie)
    kwargs = {k: objects[k] for k in MY_URLS[name]}
    assert client.get(url(name, org_a, **kwargs)).status_code == 404
    assert client.post(url(name, org_a, **kwargs)).status_code == 404
    if kwargs:  # organization A's objects through organization B's own URLs
        assert client.get(url(name, org_b, **kwargs)).status_code in (404, 405)
        assert client.post(url(name, org_b, **kwargs)).status_code == 404
    with tenant_context(org_a):
        assert Interaction.objects.filter(pk=objects["interaction_id"]).exists()
        assert Task.objects.get(pk=objects["task_id"]).done_at is None


@pytest.mark.parametrize("name", sorted(MY_URLS))
def test_read_only_member_cannot_write(client, name, org_a, reader, objects):
    client.force_login(reader)
    kwargs = {k: objects[k] for k in MY_URLS[name]}
    assert client.post(url(name, org_a, **kwargs), {"title": "x"}).status_code == 403


def test_read_only_member_reads_timelines_without_write_buttons(client, org_a, reader, objects):
    client.force_login(reader)
    body = client.get(url("contact_timeline", org_a, contact_id=objects["contact_id"]), **HTMX).content.decode()
    assert "task-toggle" not in body and "/edit/" not in body
    assert client.get(url("my_tasks", org_a)).status_code == 200


# --- hostile input ----------------------------------------------------------------------------


def _naughty_strings(count: int) -> list[str]:
    lines = naughty_strings()
    markup = [line for line in lines if "<" in line or "&" in line or '"' in line]
    return (markup[:count] + lines[::37])[:count]


def test_hostile_subjects_and_bodies_round_trip_escaped(client, org_a, alice, ana):
    client.force_login(alice)
    strings = _naughty_strings(40)
    for n, text in enumerate(strings):
        subject = "".join(ch for ch in text if ch.isprintable())[:200]
        response = client.post(
            url("interaction_create", org_a, contact_id=ana.pk),
            {"kind": "note", "date": "2025-03-04", "time": f"{n % 24:02d}:{n % 60:02d}", "subject": subject,
             "body": text.replace("\x00", ""), "contacts": [ana.pk]},
        )  # fmt: skip
        assert response.status_code in (200, 302), (text, response.status_code)
    with tenant_context(org_a):
        stored = {i.pk: (i.subject, i.body) for i in Interaction.objects.all()}
    assert len(stored) == len(strings)
    body = ""
    next_url = url("contact_timeline", org_a, contact_id=ana.pk)
    while next_url:  # every page
        page = client.get(next_url, **HTMX)
        assert page.status_code == 200
        body += page.content.decode()
        next_url = page.context["older_url"] or None
    assert "<script>" not in body.lower().replace("&lt;script&gt;", "")
    for subject, _text in stored.values():
        if subject:
            assert html.escape(subject, quote=True) in body
    # And through the edit form.
    some = next(iter(stored))
    edit = client.get(url("interaction_edit", org_a, interaction_id=some)).content.decode()
    assert "<script>alert" not in edit
