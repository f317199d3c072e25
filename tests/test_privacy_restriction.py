"""Restriction (GDPR Art. 18) and objection to marketing (Art. 21(3)) as the CRM enforces
them: a restricted contact is stored, not processed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Contact, Tag
from contacts.services.bulk import change_contacts_status, delete_contacts, tag_contacts
from contacts.services.contacts import create_contact, delete_contact, update_contact
from contacts.services.merge import merge_contacts
from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest, Right
from privacy.services import fulfilment
from privacy.services.requests import RequestError, confirm_identity, submit_request


@pytest.fixture
def ana(org_a, alice):
    return create_contact(
        organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop", "email": "ana@example.ro"}
    )


@pytest.fixture
def dan(org_a, alice):
    return create_contact(organization=org_a, actor=alice, data={"first_name": "Dan", "email": "dan@example.ro"})


def staff_request(organization, actor, contact, rights):
    request = submit_request(
        organization=organization,
        rights=rights,
        email=contact.email,
        correction="My last name is Popescu.",
        channel=PrivacyRequest.Channel.STAFF,
        actor=actor,
    )
    return confirm_identity(request, contact=contact, actor=actor)


def restricted(organization, contact) -> bool:
    with tenant_context(organization):
        return Contact.objects.get(pk=contact.pk).restricted_at is not None


def test_restricting_leaves_the_contact_out_of_bulk_actions(org_a, alice, ana, dan):
    request = staff_request(org_a, alice, ana, [Right.RESTRICTION])
    fulfilment.restrict(request, actor=alice)
    assert restricted(org_a, ana)
    with tenant_context(org_a):
        tag = Tag.objects.create(organization=org_a, name="newsletter")
        everyone = Contact.objects.filter(organization=org_a)
        assert tag_contacts(organization=org_a, actor=alice, selection=everyone, tag=tag) == 1
        assert set(tag.contacts.values_list("pk", flat=True)) == {dan.pk}
        assert change_contacts_status(organization=org_a, actor=alice, selection=everyone, status="customer") == 1
        assert delete_contacts(organization=org_a, actor=alice, selection=everyone) == 1
        assert list(Contact.objects.filter(organization=org_a).values_list("pk", flat=True)) == [ana.pk]
        assert Contact.objects.get(pk=ana.pk).status == Contact.Status.LEAD


def test_a_restricted_contact_is_changed_only_from_the_privacy_desk(org_a, alice, ana, dan):
    request = staff_request(org_a, alice, ana, [Right.RESTRICTION, Right.RECTIFICATION])
    fulfilment.restrict(request, actor=alice)
    with pytest.raises(ValidationError, match="restricted"):
        update_contact(organization=org_a, actor=alice, contact=ana, data={"job_title": "CEO"}, expected_version=None)
    with pytest.raises(ValidationError, match="restricted"):
        delete_contact(organization=org_a, actor=alice, contact=ana)
    with pytest.raises(ValidationError, match="restricted"):
        merge_contacts(organization=org_a, actor=alice, survivor=dan, duplicate=ana, choices={})
    fulfilment.apply_rectification(request, data={"last_name": "Popescu"}, actor=alice)
    with tenant_context(org_a):
        assert Contact.objects.get(pk=ana.pk).last_name == "Popescu"
        kinds = list(request.events.values_list("kind", flat=True))
    assert "rectified" in kinds and "recipients_notified" in kinds


def test_the_detail_page_shows_the_restriction(client, org_a, alice, ana):
    request = staff_request(org_a, alice, ana, [Right.RESTRICTION])
    fulfilment.restrict(request, actor=alice)
    client.force_login(alice)
    page = client.get(f"/o/{org_a.slug}/contacts/{ana.pk}/").content.decode()
    assert "Processing restricted" in page
    assert f"/o/{org_a.slug}/contacts/{ana.pk}/edit/" not in page


def test_lifting_a_restriction_needs_the_person_told_first(settings, org_a, alice, ana):
    request = staff_request(org_a, alice, ana, [Right.RESTRICTION])
    fulfilment.restrict(request, actor=alice)
    # No mail server answers: the person cannot be told, so the restriction stays.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with pytest.raises(RequestError, match="could not be told"):
        fulfilment.lift_restriction(request, actor=alice)
    assert restricted(org_a, ana)


def test_an_objection_upheld_restricts_and_needs_reasons(org_a, alice, ana):
    request = staff_request(org_a, alice, ana, [Right.OBJECTION])
    with pytest.raises(RequestError):
        fulfilment.decide_objection(request, upheld=True, reasons=" ", actor=alice)
    fulfilment.decide_objection(request, upheld=True, reasons="No compelling grounds.", actor=alice)
    assert restricted(org_a, ana)


def test_a_marketing_objection_applies_to_every_contact_with_the_address(org_a, alice, ana):
    from privacy.services.requests import apply_marketing_objection

    request = submit_request(
        organization=org_a,
        rights=[Right.OBJECTION],
        email="ANA@example.ro ",
        objects_to_marketing=True,
        channel=PrivacyRequest.Channel.STAFF,
        actor=alice,
    )
    assert apply_marketing_objection(request, actor=alice) == 1
    with tenant_context(org_a):
        objected = Contact.objects.get(pk=ana.pk).marketing_objection_at
    assert objected is not None and objected <= timezone.now()


def test_the_one_click_link_records_a_marketing_objection_at_once(client, org_a, org_b, alice, ana):
    from django.test import Client

    from privacy.services.objection import marketing_objection_token, marketing_objection_url

    url = marketing_objection_url(ana, org_a)
    path = url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])
    assert "ana@example.ro" not in url
    page = client.get(path)
    assert page.status_code == 200 and "Stop marketing messages" in page.content.decode()
    with tenant_context(org_a):
        assert Contact.objects.get(pk=ana.pk).marketing_objection_at is None, "a prefetch changes nothing"
    # A mail client's RFC 8058 one-click POST: no cookie, no CSRF token.
    one_click = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "Done" in one_click.content.decode()
    with tenant_context(org_a):
        assert Contact.objects.get(pk=ana.pk).marketing_objection_at is not None
    # Another organization's page does not accept the link; a forged one names nobody.
    token = marketing_objection_token(ana)
    assert client.post(f"/p/{org_b.slug}/privacy/marketing/{token}/").status_code == 404
    assert client.get(f"/p/{org_a.slug}/privacy/marketing/{token[:-2]}xx/").status_code == 404
