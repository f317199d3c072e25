"""People on the organization's suppression list are not imported again, and the row report
says why: erased at their request (GDPR Art. 17), or objected to direct marketing (Art. 21),
by the one-click link or by a privacy request (even before any contact holds the address)."""

from __future__ import annotations

from django.test import Client

from contacts.services.contacts import create_contact
from imports.records import ContactRecord, ImportOptions, Labelled
from imports.writers import write_contacts
from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest, Right, Suppression
from privacy.services import fulfilment
from privacy.services.objection import marketing_objection_url
from privacy.services.requests import apply_marketing_objection, submit_request

OBJECTED = "on the suppression list: this person objected to direct marketing (GDPR Art. 21)"
ERASED = "on the suppression list: this person was erased at their request (GDPR Art. 17)"


def record(line: int, first: str, email: str = "", phone: str = "") -> ContactRecord:
    return ContactRecord(
        line=line,
        first_name=first,
        emails=[Labelled(email)] if email else [],
        phones=[Labelled(phone)] if phone else [],
    )


def imported(organization, actor, records):
    with tenant_context(organization):
        return write_contacts(
            organization,
            records,
            ImportOptions(source_detail="Old shop", lawful_basis="legitimate interest"),
            batch_ref=1,
            actor=actor,
        )


def reasons(organization) -> list[tuple[str, str]]:
    with tenant_context(organization):
        return sorted(Suppression.objects.values_list("kind", "reason"))


def test_the_one_click_objection_suppresses_the_person_and_the_import_says_so(org_a, org_b, alice):
    ana = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana", "email": "ana@exemplu.ro", "phone": "+40721000001"},
    )
    path = "/" + marketing_objection_url(ana, org_a).split("://", 1)[1].split("/", 1)[1]
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert reasons(org_a) == [("email", "objected"), ("phone", "objected")]
    result = imported(
        org_a,
        alice,
        [record(2, "Ana", email="ANA@exemplu.ro"), record(3, "Ana P", phone="0721 000 001"), record(4, "Ion")],
    )
    assert (result.created, result.updated, result.skipped) == (1, 0, 2)
    assert [(o.line, o.action, o.reason) for o in result.outcomes] == [
        (2, "skipped", OBJECTED),
        (3, "skipped", OBJECTED),
    ]
    # Another organization keeps its own list: the same address imports there.
    assert imported(org_b, None, [record(2, "Ana", email="ana@exemplu.ro")]).created == 1


def test_an_objection_by_privacy_request_suppresses_an_address_no_contact_holds(org_a, alice):
    request = submit_request(
        organization=org_a,
        rights=[Right.OBJECTION],
        email="Maria@Exemplu.ro",
        objects_to_marketing=True,
        channel=PrivacyRequest.Channel.STAFF,
        actor=alice,
    )
    assert apply_marketing_objection(request, actor=alice) == 0  # nobody holds it yet
    result = imported(org_a, alice, [record(2, "Maria", email="maria@exemplu.ro")])
    assert (result.created, result.skipped) == (0, 1)
    assert result.outcomes[0].reason == OBJECTED


def test_erased_before_objected_and_a_withheld_erasure_leaves_the_objection(org_a, alice):
    ana = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@exemplu.ro"})
    with tenant_context(org_a):
        fulfilment._suppress(ana)
        from privacy.services.suppression import suppress_contact

        suppress_contact(ana, reason=Suppression.Reason.OBJECTED)
    assert reasons(org_a) == [("email", "erased"), ("email", "objected")]
    result = imported(org_a, alice, [record(2, "Ana", email="ana@exemplu.ro")])
    assert result.outcomes[0].reason == ERASED
    with tenant_context(org_a):
        fulfilment._unsuppress(ana)  # the erasure was withheld (a legal hold)
    assert reasons(org_a) == [("email", "objected")]
    result = imported(org_a, alice, [record(2, "Ana", email="ana@exemplu.ro")])
    assert result.outcomes[0].reason == OBJECTED


def test_a_list_longer_than_the_batch_is_searched_and_a_shorter_one_read_whole(org_a, alice):
    """suppression_reasons reads a short list whole and matches it in Python, and searches a
    long one on its index: both give the same answers."""
    from privacy.services.suppression import suppress_values, suppression_reasons

    with tenant_context(org_a):
        suppress_values(org_a, emails=[f"gone{i}@exemplu.ro" for i in range(5)], reason=Suppression.Reason.ERASED)
        suppress_values(org_a, emails=["gone0@exemplu.ro"], reason=Suppression.Reason.OBJECTED)
        digests = dict(Suppression.objects.values_list("digest", "reason").order_by("reason"))
    asked_few = [next(iter(digests)), "0" * 32]  # fewer digests asked than the list holds
    asked_many = [*digests, *(f"{n:032x}" for n in range(20))]  # more asked than it holds
    with tenant_context(org_a):
        few, many = suppression_reasons(org_a.pk, asked_few), suppression_reasons(org_a.pk, asked_many)
    assert few == {asked_few[0]: Suppression.Reason.ERASED}  # an erasure before an objection
    assert many == dict.fromkeys(digests, Suppression.Reason.ERASED)
    # And through an import, for a row in a batch smaller than the list.
    result = imported(org_a, alice, [record(2, "Gone", email="GONE3@exemplu.ro")])
    assert [(o.line, o.action, o.reason) for o in result.outcomes] == [(2, "skipped", ERASED)]
