"""Finding encrypted contacts: blind-index lookups by email and phone, and prefix search by
name, insensitive to case and diacritics, never across organizations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count

from contacts.models import Company
from contacts.selectors import find_contacts_by_email, find_contacts_by_phone, search_companies, search_contacts
from contacts.services.contacts import create_contact
from logicnet.encryption import blind, keys
from logicnet.tenancy.context import tenant_context


@pytest.fixture
def ana(org_a, alice):
    return create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana-Maria", "last_name": "Ștefănescu", "email": "ana@exemplu.ro", "phone": "0721234567"},
    )


@pytest.mark.parametrize("variant", ["ana@exemplu.ro", "  Ana@Exemplu.RO ", "ANA@EXEMPLU.RO"])
def test_email_variants_find_the_same_contact(org_a, ana, variant):
    assert [c.pk for c in find_contacts_by_email(org_a, variant)] == [ana.pk]


@pytest.mark.parametrize("variant", ["+40 721 234 567", "0721234567", "0040721234567", "0721-234-567", "+40721234567"])
def test_phone_variants_find_the_same_contact(org_a, ana, variant):
    assert [c.pk for c in find_contacts_by_phone(org_a, variant)] == [ana.pk]


def test_internationalized_domains_are_normalized(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "email": "ion@bücher.de"})
    assert [c.pk for c in find_contacts_by_email(org_a, "ION@xn--bcher-kva.de")] == [contact.pk]
    assert blind.normalize_email("  Ana@Exemplu.RO ") == "ana@exemplu.ro"


def test_the_organizations_country_decides_national_numbers(org_a, alice):
    org_a.country = "DE"
    with tenant_context(org_a):  # only the active organization's row can change
        org_a.save(update_fields=["country"])
    keys.forget_organization(org_a.pk)
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Jonas", "phone": "030 1234567"})
    assert [c.pk for c in find_contacts_by_phone(org_a, "+49 30 1234567")] == [contact.pk]
    assert blind.normalize_phone("0721234567", "RO") == "+40721234567"


def test_lookups_never_cross_organizations(org_a, org_b, ana, charlie):
    theirs = create_contact(
        organization=org_b, actor=charlie, data={"first_name": "Ana", "email": "ana@exemplu.ro", "phone": "0721234567"}
    )
    assert [c.pk for c in find_contacts_by_email(org_b, "ana@exemplu.ro")] == [theirs.pk]
    assert [c.pk for c in find_contacts_by_phone(org_a, "0721234567")] == [ana.pk]
    with tenant_context(org_a):
        ours = type(ana).objects.get(pk=ana.pk)
    with tenant_context(org_b):
        other = type(ana).objects.get(pk=theirs.pk)
    # The same address gives unrelated digests in two organizations: no cross-tenant linkage.
    assert ours.email_index != other.email_index
    # Name tokens are a few bits each, so two organizations share some values by chance;
    # what keeps them unlinkable is that each organization's token key differs.
    purpose = blind.token_purpose("contacts.Contact.name_tokens")
    with tenant_context(org_a):
        key_a = keys.organization_keys(org_a.pk).derived_key(1, purpose)
    with tenant_context(org_b):
        key_b = keys.organization_keys(org_b.pk).derived_key(1, purpose)
    assert key_a != key_b


def test_a_duplicate_email_is_a_validation_error(org_a, ana, alice):
    with pytest.raises(ValidationError, match="already exists"):
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": " ANA@exemplu.ro"})


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("stef", True),
        ("Ștef", True),
        ("STEFANESCU", True),
        ("ștefănescu", True),
        ("ana", True),
        ("maria", True),
        ("ana stef", True),
        ("stef ana", True),
        ("ana pop", False),
        ("tef", False),  # a prefix, not a substring
        ("s", False),  # one letter is too short to search
    ],
)
def test_prefix_search_ignores_case_and_diacritics(org_a, ana, query, found):
    with tenant_context(org_a):
        assert [c.pk for c in search_contacts(org_a, query)] == ([ana.pk] if found else [])


def test_serb_finds_serban_and_results_come_sorted(org_a, alice):
    for first, last in [("Șerban", "Popa"), ("Şerban", "Albu"), ("Sergiu", "Pop"), ("Mihai", "Serbu")]:
        create_contact(organization=org_a, actor=alice, data={"first_name": first, "last_name": last})
    with tenant_context(org_a):
        assert [c.full_name for c in search_contacts(org_a, "serb")] == ["Şerban Albu", "Șerban Popa", "Mihai Serbu"]
        assert len(search_contacts(org_a, "ser", limit=2)) == 2


def test_search_never_crosses_organizations(org_a, org_b, ana, charlie):
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Ștefan"})
    with tenant_context(org_b):
        assert [c.first_name for c in search_contacts(org_b, "stef")] == ["Ștefan"]


def test_company_names_are_searchable(org_a):
    with tenant_context(org_a):
        company = Company.objects.create(organization=org_a, name="Țesătoria Șerbănești SRL")
        assert [c.pk for c in search_companies(org_a, "tesat serb")] == [company.pk]


PLANNER_ROWS = 500


def _letters(number: int) -> str:
    word = ""
    for _ in range(5):
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
    return word.capitalize()


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _explain(cursor, query: str, params: list) -> list[dict]:
    cursor.execute("EXPLAIN (FORMAT JSON) " + query, params)
    return list(_plan_nodes(cursor.fetchone()[0][0]["Plan"]))


def test_lookups_use_the_indexes(committed_db, org_a, org_b):
    """Which index the planner picks depends on the table's statistics: on a near-empty
    table any index led by organization_id costs the same, and the pick changes with when
    autovacuum last looked. So the test makes the statistics deterministic first: enough
    rows in two organizations, then an explicit ANALYZE (which reads every row of tables
    this small, so the same data gives the same statistics). Sequential scans are switched
    off, and what is asserted is what must hold: the lookup column is in the index
    condition, not in a filter applied after reading the whole organization."""
    from contacts.models import Contact, ContactNameToken
    from tests.conftest import use_database_role

    # Distinct five-letter names spread over the alphabet (7919 is prime to 26**5).
    names = [i * 7919 % 26**5 for i in range(PLANNER_ROWS)]
    for organization in (org_a, org_b):
        with tenant_context(organization):
            Contact.objects.bulk_create(
                [
                    Contact(organization=organization, first_name=_letters(name), email=f"person{i}@exemplu.ro")
                    for i, name in enumerate(names)
                ]
            )
    use_database_role("owner")  # ANALYZE is the table owner's
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact, contacts_contactnametoken")
    use_database_role("app")  # EXPLAIN as the application role: under row-level security

    with tenant_context(org_a):
        contact = Contact.objects.order_by("pk").first()
        # The contact's rarest token (its whole name): a short prefix is shared by many.
        token = (
            ContactNameToken.objects.filter(token__in=contact.name_tokens)
            .values_list("token", flat=True)
            .annotate(n=Count("pk"))
            .order_by("n", "token")
            .first()
        )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            nodes = _explain(
                cursor,
                "SELECT id FROM contacts_contact WHERE organization_id = %s AND email_index = %s",
                [org_a.pk, contact.email_index],
            )
            assert not [n for n in nodes if n["Node Type"] == "Seq Scan"]
            assert any("email_index" in n.get("Index Cond", "") for n in nodes), nodes
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_unique_email'")
            assert "(organization_id, email_index)" in cursor.fetchone()[0]
            # Equality on the token column is leakproof, so the row-level security policy
            # does not keep the planner off the index.
            nodes = _explain(
                cursor,
                "SELECT contact_id FROM contacts_contactnametoken WHERE organization_id = %s AND token = %s",
                [org_a.pk, token],
            )
            used = [n for n in nodes if "token" in n.get("Index Cond", "")]
            assert [n["Index Name"] for n in used] == ["contact_token_idx"], nodes


def test_token_rows_follow_their_contact(org_a, ana):
    from contacts.models import ContactNameToken

    with tenant_context(org_a):
        contact = type(ana).objects.get(pk=ana.pk)
        assert ContactNameToken.objects.filter(contact=contact).count() == len(contact.name_tokens)
        contact.first_name = "Ioana"
        contact.save()
        assert search_contacts(org_a, "ioa")
        assert not search_contacts(org_a, "maria")
        contact.delete()
        assert not ContactNameToken.objects.exists()


def test_token_rows_follow_bulk_updates_and_deletes(org_a, org_b, alice, charlie):
    """The statement triggers delete a contact's token rows by its id, through the index on
    the contact (migration 0014): a multi-row update or delete leaves the token table equal
    to the arrays, and another organization's look-alike rows untouched."""
    from contacts.models import Contact, ContactNameToken

    def token_rows(organization) -> dict[int, list[int]]:
        with tenant_context(organization):
            rows: dict[int, list[int]] = {}
            for contact_id, token in ContactNameToken.objects.values_list("contact_id", "token"):
                rows.setdefault(contact_id, []).append(token)
            return {pk: sorted(tokens) for pk, tokens in rows.items()}

    def arrays(organization) -> dict[int, list[int]]:
        with tenant_context(organization):
            return {pk: sorted(tokens) for pk, tokens in Contact.objects.values_list("pk", "name_tokens") if tokens}

    ours = [
        create_contact(organization=org_a, actor=alice, data={"first_name": name, "last_name": "Popescu"}).pk
        for name in ("Ana", "Maria", "Ioana")
    ]
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Ana", "last_name": "Popescu"})
    theirs = token_rows(org_b)
    assert token_rows(org_a) == arrays(org_a) and len(token_rows(org_a)) == 3
    with tenant_context(org_a):
        (third,) = Contact.objects.filter(pk=ours[2]).values_list("name_tokens", flat=True)
        changed = Contact.objects.filter(pk__in=ours[:2]).update(name_tokens=third[:5])
        untouched = Contact.objects.filter(pk__in=ours).update(status=Contact.Status.CUSTOMER)
    assert (changed, untouched) == (2, 3)
    assert token_rows(org_a) == arrays(org_a)
    assert token_rows(org_a)[ours[0]] == sorted(third[:5])
    with tenant_context(org_a):
        Contact.objects.filter(pk__in=ours[:2]).delete()
    assert token_rows(org_a) == arrays(org_a) and list(token_rows(org_a)) == [ours[2]]
    assert token_rows(org_b) == theirs
    index_columns = {
        column
        for (column,) in _fetch_all(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE i.indrelid = 'contacts_contactnametoken'::regclass"
        )
    }
    assert "contact_id" in index_columns


def test_bulk_created_contacts_are_searchable(org_a):
    from contacts.models import Contact

    with tenant_context(org_a):
        Contact.objects.bulk_create(
            [Contact(organization=org_a, first_name=name, last_name="Pop") for name in ("Ștefan", "Ștefania", "Sorin")]
        )
        assert sorted(c.first_name for c in search_contacts(org_a, "stef pop")) == ["Ștefan", "Ștefania"]


def test_lookups_find_further_emails_and_phones(org_a, alice):
    contact = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Radu",
            "email": "radu@firma.ro",
            "extra_emails": [{"email": "Radu.Personal@Exemplu.RO", "label": "home"}],
            "extra_phones": [{"phone": "+40 744 111 222", "label": "work"}],
        },
    )
    assert [c.pk for c in find_contacts_by_email(org_a, " radu.personal@exemplu.ro")] == [contact.pk]
    assert [c.pk for c in find_contacts_by_phone(org_a, "0744 111 222")] == [contact.pk]
    assert [c.pk for c in find_contacts_by_email(org_a, "radu@firma.ro")] == [contact.pk]


# --- what the tokens reveal, and the re-index ----------------------------------------------------


def test_tokens_are_truncated_and_capped(org_a, alice):
    """A few bits each, and only PREFIX_LENGTHS per word: a row no longer carries the whole
    chain of its prefixes ("po", "pop", "pope", "popes"...), from which comparing rows
    rebuilt each organization's prefix tree."""
    from contacts.models import ContactNameToken

    contact = create_contact(
        organization=org_a, actor=alice, data={"first_name": "Ana-Maria", "last_name": "Ștefănescu-Popovici"}
    )
    with tenant_context(org_a):
        stored = type(contact).objects.get(pk=contact.pk).name_tokens
        key = keys.organization_keys(org_a.pk)
        assert ContactNameToken.objects.filter(contact=contact).count() == len(stored)
    assert stored and all(0 <= token < blind.TOKEN_SPACE for token in stored)
    assert blind.TOKEN_SPACE <= 1 << 16
    # ana (2 lengths), maria (3), stefanescu (4), popovici (4): 13 real tokens at most,
    # where every prefix length from 2 to 12 gave 27 before; padded to a multiple of 4.
    assert blind.PREFIX_LENGTHS == (2, 3, 4, 6)
    assert len(stored) == 16
    # The count no longer tells name lengths apart: "Ana Pop" and "Alexandrina Popescu"
    # (4 and 8 real tokens) both store 8.
    scope = "contacts.Contact.name_tokens"
    for names in (["Ana", "Pop"], ["Alexandrina", "Popescu"], ["Io", ""]):
        assert len(blind.prefix_tokens(key, key.current_version, names, scope)) == blind.MIN_TOKENS


def test_each_token_column_has_its_own_key(org_a):
    with tenant_context(org_a):
        entry = keys.current_keys(org_a.pk)
    contact_key = entry.derived_key(entry.current_version, blind.token_purpose("contacts.Contact.name_tokens"))
    company_key = entry.derived_key(entry.current_version, blind.token_purpose("contacts.Company.name_tokens"))
    assert contact_key != company_key


@pytest.fixture
def romanian_names(org_a, alice):
    people = [("Ștefan", "Popescu"), ("Ioana", "Bălănescu"), ("Ștefania", "Bălan"), ("Mihai", "Stoica")]
    return {
        f"{first} {last}": create_contact(
            organization=org_a, actor=alice, data={"first_name": first, "last_name": last}
        )
        for first, last in people
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stef", ["Ștefania Bălan", "Ștefan Popescu"]),
        ("ștefa", ["Ștefania Bălan", "Ștefan Popescu"]),
        ("stefani", ["Ștefania Bălan"]),
        ("bălă", ["Ștefania Bălan", "Ioana Bălănescu"]),
        ("bala", ["Ștefania Bălan", "Ioana Bălănescu"]),
        ("BĂLĂNESCU", ["Ioana Bălănescu"]),
        ("ioana bal", ["Ioana Bălănescu"]),
        ("balanes", ["Ioana Bălănescu"]),  # 7 letters: its 6-letter token, then checked in full
        ("balanesx", []),
        ("st", ["Ștefania Bălan", "Ștefan Popescu", "Mihai Stoica"]),
        ("ste p", ["Ștefan Popescu"]),  # one letter narrows after decryption
    ],
)
def test_search_finds_diacritic_names_by_prefix(org_a, romanian_names, query, expected):
    with tenant_context(org_a):
        assert [c.full_name for c in search_contacts(org_a, query)] == expected


def test_candidates_sharing_every_token_are_filtered_after_decryption(org_a, romanian_names, monkeypatch):
    """With one token value for everything, every row is a candidate: only decryption can
    tell the real matches, and the search still returns exactly them."""
    from logicnet.encryption.reindex import reindex_organization

    monkeypatch.setattr(blind, "TOKEN_SPACE", 1)
    reindex_organization(org_a)
    with tenant_context(org_a):
        assert {t for c in type(romanian_names["Ioana Bălănescu"]).objects.all() for t in c.name_tokens} == {0}
        assert [c.full_name for c in search_contacts(org_a, "bălă")] == ["Ștefania Bălan", "Ioana Bălănescu"]
        assert [c.full_name for c in search_contacts(org_a, "mih sto")] == ["Mihai Stoica"]
        assert search_contacts(org_a, "xyz") == []


def test_reindex_brings_old_tokens_values_and_phones_up_to_date(org_a, alice, romanian_names):
    """Rows written before the change (64-bit tokens of every prefix, unpadded v1 values, a
    national phone) are found, padded and in E.164 after `reindex_search`."""
    from django.core.management import call_command

    from contacts.models import Contact
    from logicnet.encryption import crypto

    ioana = romanian_names["Ioana Bălănescu"]
    with tenant_context(org_a):  # the unpadded v1 format, as values were written before
        old_phone = keys.encrypt_value(org_a.pk, "contacts.Contact", "phone", b"0744 123 456")
        old_name = keys.encrypt_value(org_a.pk, "contacts.Contact", "first_name", b"Ioana")
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contacts_contact SET name_tokens = %s, phone = %s, first_name = %s, phone_index = '' WHERE id = %s",
            [[-(2**62), 2**62 + 7], old_phone, old_name, ioana.pk],
        )
    with tenant_context(org_a):
        assert Contact.objects.get(pk=ioana.pk).first_name == "Ioana"  # v1 still reads
        assert "Ioana Bălănescu" not in [c.full_name for c in search_contacts(org_a, "ioana")]
    call_command("reindex_search", organization=org_a.slug)
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT first_name, phone FROM contacts_contact WHERE id = %s", [ioana.pk])
        assert all(crypto.is_padded(value) for value in cursor.fetchone())
        contact = Contact.objects.get(pk=ioana.pk)
        assert (contact.first_name, contact.phone) == ("Ioana", "+40744123456")
        assert blind.is_current_token_set(contact.name_tokens)
        assert [c.full_name for c in search_contacts(org_a, "ioana")] == ["Ioana Bălănescu"]
    assert [c.pk for c in find_contacts_by_phone(org_a, "0744 123 456")] == [ioana.pk]
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT first_name, name_tokens FROM contacts_contact ORDER BY id")
        first = cursor.fetchall()
    call_command("reindex_search", organization=org_a.slug)  # nothing left to change
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT first_name, name_tokens FROM contacts_contact ORDER BY id")
        assert cursor.fetchall() == first


def test_a_country_change_reindexes_national_numbers_through_its_job(org_a, alice):
    """A number stored in a national format before E.164 storage is read in the new country
    by the job the country change starts."""
    from accounts.services import update_organization
    from contacts.models import Contact
    from logicnet.jobs.models import Job
    from logicnet.jobs.services import execute_job

    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Jonas"})
    with tenant_context(org_a), connection.cursor() as cursor:
        legacy = keys.encrypt_value(org_a.pk, "contacts.Contact", "phone", b"030 1234567")
        cursor.execute("UPDATE contacts_contact SET phone = %s WHERE id = %s", [legacy, contact.pk])
    update_organization(organization=org_a, actor=alice, name=org_a.name, country="DE", require_two_factor=False)
    with tenant_context(org_a):
        job = Job.objects.get()
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=True)
    with tenant_context(org_a):
        job.refresh_from_db()
        assert job.state == Job.State.SUCCEEDED, job.error
        assert Contact.objects.get(pk=contact.pk).phone == "+49301234567"
    assert [c.pk for c in find_contacts_by_phone(org_a, "+49 30 1234567")] == [contact.pk]


def _fetch_all(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
