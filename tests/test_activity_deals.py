"""Activity on deals: a call, note or task logged on a deal is on the deal's timeline, and a
call is with the deal's people, so it is on each of their timelines too. Another
organization's deal can be linked neither through the services nor through the pages."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from activity.models import Interaction, InteractionParticipant, Task
from activity.selectors import timeline, visible_tasks
from activity.services import create_task, log_interaction, update_interaction
from contacts.services.contacts import create_contact
from deals.models import Stage
from deals.services.deals import create_deal, delete_deal
from deals.services.pipelines import create_pipeline
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor


def url(name, organization, **kwargs):
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


def _stage(organization, actor):
    pipeline = create_pipeline(organization=organization, actor=actor, name="Sales")
    with tenant_context(organization):
        return Stage.objects.filter(pipeline=pipeline).order_by("position").first()


@pytest.fixture
def ana(org_a, alice):
    return create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})


@pytest.fixture
def dan(org_a, alice):
    return create_contact(organization=org_a, actor=alice, data={"first_name": "Dan", "last_name": "Ionescu"})


@pytest.fixture
def deal(org_a, alice, ana, dan):
    return create_deal(
        organization=org_a, actor=alice, title="Roof repair", stage=_stage(org_a, alice), contacts=[ana, dan]
    )


@pytest.fixture
def their_deal(org_b, charlie):
    bogdan = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan"})
    return create_deal(
        organization=org_b, actor=charlie, title="Their deal", stage=_stage(org_b, charlie), contacts=[bogdan]
    )


def _entries(organization, **whose):
    with tenant_context(organization):
        return [(e.kind, e.pk) for e in timeline(organization=organization, **whose).entries]


# --- services -----------------------------------------------------------------------------------


def test_a_call_on_a_deal_is_on_the_deal_and_on_each_of_its_contacts_timelines(org_a, alice, ana, dan, deal):
    call = log_interaction(
        organization=org_a,
        actor=alice,
        kind="call",
        occurred_at=timezone.now(),
        subject="Quote walked through",
        body="",
        contacts=[],
        deal=deal,
    )
    with tenant_context(org_a):
        assert call.deal_id == deal.pk
        people = set(InteractionParticipant.objects.filter(interaction=call).values_list("contact_id", flat=True))
    assert people == {ana.pk, dan.pk}
    assert _entries(org_a, deal=deal) == [("interaction", call.pk)]
    assert _entries(org_a, contact=ana) == [("interaction", call.pk)]
    assert _entries(org_a, contact=dan) == [("interaction", call.pk)]


def test_editing_a_deals_call_keeps_the_deals_people(org_a, alice, ana, dan, deal):
    call = log_interaction(
        organization=org_a,
        actor=alice,
        kind="call",
        occurred_at=timezone.now(),
        subject="First",
        body="",
        contacts=[ana],
        deal=deal,
    )
    later = timezone.now() + datetime.timedelta(hours=1)
    update_interaction(
        organization=org_a,
        actor=alice,
        interaction=call,
        kind="meeting",
        occurred_at=later,
        subject="Moved",
        body="",
        contacts=[],
    )
    with tenant_context(org_a):
        rows = InteractionParticipant.objects.filter(interaction=call)
        assert {r.contact_id for r in rows} == {ana.pk, dan.pk}
        assert {r.occurred_at for r in rows} == {later}
        assert Interaction.objects.get(pk=call.pk).deal_id == deal.pk


def test_a_task_on_a_deal_is_on_the_deals_timeline_only(org_a, alice, ana, deal):
    task = create_task(
        organization=org_a, actor=alice, title="Send the contract", due_at=timezone.now(), assignee=alice, deal=deal
    )
    assert _entries(org_a, deal=deal) == [("task", task.pk)]
    assert _entries(org_a, contact=ana) == []


def test_another_organizations_deal_cannot_be_linked(org_a, alice, ana, their_deal):
    with pytest.raises(ValidationError) as call_error:
        log_interaction(
            organization=org_a,
            actor=alice,
            kind="call",
            occurred_at=timezone.now(),
            subject="Probe",
            body="",
            contacts=[ana],
            deal=their_deal,
        )
    assert call_error.value.code == "foreign_deal"
    with pytest.raises(ValidationError) as task_error:
        create_task(organization=org_a, actor=alice, title="Probe", due_at=None, assignee=alice, deal=their_deal)
    assert "deal" in task_error.value.message_dict
    with tenant_context(org_a):
        assert not Interaction.objects.exists()
        assert not Task.objects.exists()


def test_a_deleted_deal_leaves_its_calls_on_the_contacts_timelines(org_a, alice, ana, deal):
    call = log_interaction(
        organization=org_a,
        actor=alice,
        kind="call",
        occurred_at=timezone.now(),
        subject="Kept",
        body="",
        contacts=[],
        deal=deal,
    )
    task = create_task(organization=org_a, actor=alice, title="Gone", due_at=None, assignee=alice, deal=deal)
    delete_deal(organization=org_a, actor=alice, deal=deal, expected_version=deal.version)
    with tenant_context(org_a):
        assert Interaction.objects.get(pk=call.pk).deal_id is None
        assert not Task.objects.filter(pk=task.pk).exists()
    assert _entries(org_a, contact=ana) == [("interaction", call.pk)]


def test_own_visibility_hides_a_deal_task_of_a_deal_the_member_cannot_see(org_a, alice, bob, deal):
    task = create_task(organization=org_a, actor=alice, title="Private", due_at=None, assignee=alice, deal=deal)
    with tenant_context(org_a):
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
        org_a.refresh_from_db()
        bob_actor = Actor(organization=org_a, user=bob, role="member")
        alice_actor = Actor(organization=org_a, user=alice, role="member")
        assert not visible_tasks(bob_actor).filter(pk=task.pk).exists()
        assert visible_tasks(alice_actor).filter(pk=task.pk).exists()


# --- pages --------------------------------------------------------------------------------------


def test_a_call_logged_on_the_deal_page_shows_on_the_deal_and_its_contacts(client, org_a, alice, ana, dan, deal):
    client.force_login(alice)
    page = client.get(url("deal_detail", org_a, deal_id=deal.pk))
    assert page.status_code == 200
    assert url("deal_timeline", org_a, deal_id=deal.pk) in page.content.decode()
    form = client.get(url("deal_interaction_create", org_a, deal_id=deal.pk))
    assert form.status_code == 200
    now = timezone.localtime()
    response = client.post(
        url("deal_interaction_create", org_a, deal_id=deal.pk),
        {
            "kind": "call",
            "date": now.date().isoformat(),
            "time": now.strftime("%H:%M"),
            "subject": "Called about the roof",
            "body": "",
            "company": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url("deal_detail", org_a, deal_id=deal.pk)
    for timeline_url in (
        url("deal_timeline", org_a, deal_id=deal.pk),
        url("contact_timeline", org_a, contact_id=ana.pk),
        url("contact_timeline", org_a, contact_id=dan.pk),
    ):
        body = client.get(timeline_url, HTTP_HX_REQUEST="true").content.decode()
        assert "Called about the roof" in body, timeline_url
    # On a contact's timeline the call names the deal it was logged on.
    contact_body = client.get(url("contact_timeline", org_a, contact_id=ana.pk), HTTP_HX_REQUEST="true")
    assert url("deal_detail", org_a, deal_id=deal.pk) in contact_body.content.decode()


def test_a_task_added_from_the_deal_page_is_on_its_timeline(client, org_a, alice, deal):
    client.force_login(alice)
    create = url("task_create", org_a)
    assert client.get(create, {"deal": deal.pk}).status_code == 200
    response = client.post(create, {"deal": deal.pk, "title": "Send the quote", "assignee": alice.pk})
    assert response.status_code == 302
    assert response["Location"] == url("deal_detail", org_a, deal_id=deal.pk)
    body = client.get(url("deal_timeline", org_a, deal_id=deal.pk)).content.decode()
    assert "Send the quote" in body
    with tenant_context(org_a):
        task = Task.objects.get()
    # Editing the task keeps it on the deal.
    edit = client.post(url("task_edit", org_a, task_id=task.pk), {"deal": deal.pk, "title": "Send the new quote"})
    assert edit.status_code == 302
    with tenant_context(org_a):
        assert Task.objects.get(pk=task.pk).deal_id == deal.pk


def test_another_organizations_deal_is_a_404_on_every_activity_page(client, org_a, alice, their_deal):
    client.force_login(alice)
    assert client.get(url("deal_timeline", org_a, deal_id=their_deal.pk)).status_code == 404
    assert client.get(url("deal_interaction_create", org_a, deal_id=their_deal.pk)).status_code == 404
    assert client.get(url("task_create", org_a), {"deal": their_deal.pk}).status_code == 404
    posted = client.post(url("task_create", org_a), {"deal": their_deal.pk, "title": "Probe"})
    assert posted.status_code == 404
    with tenant_context(org_a):
        assert not Task.objects.exists()


def test_a_read_only_member_sees_the_deal_timeline_without_forms(client, org_a, alice, deal):
    from tests.factories import make_member, make_user

    reader = make_user("reader@example.com", "Read Only")
    make_member(org_a, reader, "read_only")
    log_interaction(
        organization=org_a,
        actor=alice,
        kind="note",
        occurred_at=timezone.now(),
        subject="Budget approved",
        body="",
        contacts=[],
        deal=deal,
    )
    client.force_login(reader)
    body = client.get(url("deal_detail", org_a, deal_id=deal.pk)).content.decode()
    assert url("deal_interaction_create", org_a, deal_id=deal.pk) not in body
    timeline_body = client.get(url("deal_timeline", org_a, deal_id=deal.pk)).content.decode()
    assert "Budget approved" in timeline_body
    assert client.get(url("deal_interaction_create", org_a, deal_id=deal.pk)).status_code == 403
