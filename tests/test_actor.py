"""Visibility rules take an Actor, not a request: a job or an export outside any request
applies exactly the rule the pages apply."""

from __future__ import annotations

from accounts.models import Membership
from contacts.access import get_contact_for, sees_all_contacts, visible_contacts
from contacts.selectors_lists import search_crm
from contacts.services.contacts import create_contact
from contacts.services.custom_fields import update_contact_visibility
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor, Role


def actor_of(organization, user) -> Actor:
    return Actor.from_membership(Membership.objects.get(organization=organization, user=user))


def test_an_actor_is_built_from_a_membership(org_a, alice, bob):
    actor = actor_of(org_a, bob)
    assert (actor.organization, actor.user, actor.role) == (org_a, bob, Role.MEMBER)
    assert actor.at_least(Role.READ_ONLY) and actor.at_least(Role.MEMBER) and not actor.at_least(Role.ADMIN)
    assert actor_of(org_a, alice).at_least(Role.OWNER)


def test_a_job_sees_what_the_page_would_show(client, org_a, alice, bob):
    with tenant_context(org_a):
        update_contact_visibility(organization=org_a, actor=alice, visibility="own")
        org_a.refresh_from_db()
        mine = create_contact(organization=org_a, actor=bob, data={"first_name": "Dana", "owner": bob})
        theirs = create_contact(organization=org_a, actor=alice, data={"first_name": "Dora", "owner": alice})
    member, owner = actor_of(org_a, bob), actor_of(org_a, alice)
    # No request anywhere: this is how a Celery task or an export would call the rules.
    with tenant_context(org_a):
        assert not sees_all_contacts(member) and sees_all_contacts(owner)
        assert list(visible_contacts(member)) == [mine]
        assert set(visible_contacts(owner)) == {mine, theirs}
        assert get_contact_for(member, mine.pk) == mine
        assert [c.pk for c in search_crm(member, "Do").contacts] == []
        assert [c.pk for c in search_crm(owner, "Dora").contacts] == [theirs.pk]

    # The page, through the middleware's request.actor, shows the member the same thing.
    client.force_login(bob)
    assert client.get(f"/o/{org_a.slug}/contacts/{mine.pk}/").status_code == 200
    assert client.get(f"/o/{org_a.slug}/contacts/{theirs.pk}/").status_code == 404


def test_work_no_person_started_sees_no_unowned_contact_under_own_visibility(org_a, alice):
    with tenant_context(org_a):
        update_contact_visibility(organization=org_a, actor=alice, visibility="own")
        org_a.refresh_from_db()
        unowned = create_contact(organization=org_a, actor=alice, data={"first_name": "Nobody's"})
        assert unowned.owner_id is None
        system = Actor(organization=org_a, user=None, role=Role.MEMBER)
        assert list(visible_contacts(system)) == []
