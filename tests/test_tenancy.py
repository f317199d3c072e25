"""The two tenant walls, proved against the real PostgreSQL as the application role.

Wall 1 is django-scopes (a query outside any organization raises); wall 2 is row-level
security keyed by the transaction-local `app.organization_id`. Every check that concerns
tenant tables walks `rls_models()`, so a new tenant model is covered the day it appears
(and fails here until it has a row factory below).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, connections, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import ScopeError, get_scope, scopes_disabled

from accounts.exports import MEMBER_EXPORT
from accounts.models import Organization, User
from accounts.services import create_organization, invite_member
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.audit.services import record_event
from logicnet.encryption.keys import create_key_version
from logicnet.jobs.models import Job
from logicnet.jobs.services import start_job
from logicnet.tenancy.context import (
    PlatformAccessUnavailable,
    acting_user,
    active_organization_id,
    platform_bypass,
    tenant_context,
    user_context,
)
from logicnet.tenancy.rls import APPEND_ONLY_TABLES, RLS_EXEMPT, rls_models, tenant_models
from privacy.services.requests import privacy_settings, submit_request
from usage.services import record_usage

# One way to make a row of each model under row-level security, through the real services.
# A new tenant model needs an entry here: the tests below fail, naming it, until it has one.
RowFactory = Callable[[Organization, User, int], object]
# A deal with its pipeline, stages, a contact, a tag and its created event: one row in each table.
DEAL_ROWS = ("Pipeline", "Stage", "Deal", "DealContact", "DealTag", "DealEvent", "DealTotal")
RLS_ROW_FACTORIES: dict[str, RowFactory] = {
    "accounts.Invitation": lambda organization, actor, n: invite_member(
        organization=organization, actor=actor, email=f"invitee-{n}@example.net", role="member"
    ),
    "audit.AuditEvent": lambda organization, actor, n: record_event(
        action="test.event", actor=actor, organization=organization, details={"n": n}
    ),
    "jobs.Job": lambda organization, actor, n: start_job(organization=organization, actor=actor, kind=MEMBER_EXPORT),
    "contacts.Contact": lambda organization, actor, n: _contact(organization, actor, n),
    # Name-token rows are written by the database for each contact or company (a trigger).
    "contacts.ContactNameToken": lambda organization, actor, n: _contact(organization, actor, n),
    "contacts.Company": lambda organization, actor, n: create_company(
        organization=organization, actor=actor, name=f"Company {n} SRL"
    ),
    "contacts.CompanyNameToken": lambda organization, actor, n: create_company(
        organization=organization, actor=actor, name=f"Company {n} SRL"
    ),
    "encryption.OrganizationKey": lambda organization, actor, n: _key_version(organization),
    "contacts.ContactEmail": lambda organization, actor, n: _child(
        organization, actor, n, "ContactEmail", email=f"extra-{n}@example.net"
    ),
    "contacts.ContactPhone": lambda organization, actor, n: _child(
        organization, actor, n, "ContactPhone", phone=f"+4072100{n:04d}"
    ),
    "contacts.ContactAddress": lambda organization, actor, n: _child(
        organization, actor, n, "ContactAddress", city="Cluj-Napoca"
    ),
    "contacts.ContactShare": lambda organization, actor, n: _child(organization, actor, n, "ContactShare", user=actor),
    "contacts.ContactTag": lambda organization, actor, n: _child(
        organization, actor, n, "ContactTag", tag=_row(organization, "Tag", name=f"tag-{n}")
    ),
    "contacts.CompanyTag": lambda organization, actor, n: _row(
        organization,
        "CompanyTag",
        company=create_company(organization=organization, actor=actor, name=f"Tagged {n}"),
        tag=_row(organization, "Tag", name=f"company-tag-{n}"),
    ),
    "contacts.Tag": lambda organization, actor, n: _row(organization, "Tag", name=f"tag-{n}"),
    "contacts.CustomField": lambda organization, actor, n: _row(
        organization, "CustomField", entity="contact", key=f"field-{n}", label=f"Field {n}", kind="text"
    ),
    "activity.Interaction": lambda organization, actor, n: _row(
        organization, "activity.Interaction", kind="note", subject=f"Note {n}", author=actor
    ),
    "activity.InteractionParticipant": lambda organization, actor, n: _participant(organization, actor, n),
    "contacts.SavedView": lambda organization, actor, n: _row(
        organization, "SavedView", entity="contact", name=f"View {n}", owner=actor
    ),
    "activity.Task": lambda organization, actor, n: _row(
        organization, "activity.Task", title=f"Call back {n}", assignee=actor
    ),
    "privacy.PrivacyRequest": lambda organization, actor, n: _privacy_request(organization, actor, n),
    "privacy.RequestEvent": lambda organization, actor, n: _privacy_request(organization, actor, n),
    "privacy.PrivacySettings": lambda organization, actor, n: privacy_settings(organization),
    "privacy.Suppression": lambda organization, actor, n: _privacy_row(
        organization, "Suppression", kind="email", digest=f"digest-{n}"
    ),
    "privacy.ErasureRecord": lambda organization, actor, n: _privacy_row(
        organization, "ErasureRecord", contact_id_erased=1000 + n, erased_by=actor
    ),
    "usage.UsageEvent": lambda organization, actor, n: record_usage(
        organization=organization, user=actor, feature="contacts.list"
    ),
    "breaches.BreachNotice": lambda organization, actor, n: _breach_notice(organization, n),
    "breaches.BreachRecipient": lambda organization, actor, n: _breach_row(
        organization, "BreachRecipient", notice=_breach_notice(organization, n), kind="contact", subject_id=n
    ),
    "consent.Purpose": lambda organization, actor, n: _consent_purpose(organization, actor, n),
    "consent.NoticeVersion": lambda organization, actor, n: _consent_purpose(organization, actor, n),
    "consent.ConsentRecord": lambda organization, actor, n: _consent_record(organization, actor, n),
    "consent.ConsentEvidence": lambda organization, actor, n: _consent_record(organization, actor, n),
    "consent.PendingSignup": lambda organization, actor, n: _consent_signup(organization, actor, n),
    "retention.RetentionOverride": lambda organization, actor, n: _retention_period(organization, actor, n),
    "retention.LegalHold": lambda organization, actor, n: _legal_hold(organization, actor, n),
    "notices.SubProcessorObjection": lambda organization, actor, n: _subprocessor_objection(organization, actor, n),
    **{f"deals.{name}": lambda organization, actor, n: _deal(organization, actor, n) for name in DEAL_ROWS},
    "deals.DealSettings": lambda organization, actor, n: _deal_row(organization, actor, n, "settings"),
    "deals.LostReason": lambda organization, actor, n: _deal_row(organization, actor, n, "reason"),
    "deals.Product": lambda organization, actor, n: _deal_row(organization, actor, n, "product"),
    "deals.CurrencyRate": lambda organization, actor, n: _deal_row(organization, actor, n, "rate"),
    "deals.DealLineItem": lambda organization, actor, n: _deal_row(organization, actor, n, "line"),
    "deals.Transaction": lambda organization, actor, n: _deal_row(organization, actor, n, "transaction"),
    "imports.Import": lambda organization, actor, n: _imports_row(
        organization, "Import", file_type="csv", created_by=actor
    ),
    "imports.SavedMapping": lambda organization, actor, n: _imports_row(organization, "SavedMapping", name=f"Map {n}"),
    "billing.Subscription": lambda organization, actor, n: _billing_subscription(organization),
    "billing.BillingDetails": lambda organization, actor, n: _billing_details(organization, actor, n),
    "billing.Invoice": lambda organization, actor, n: _billing_invoice(organization, n),
    "support.SupportAccessGrant": lambda organization, actor, n: _support_grant(organization, actor),
    "support.SupportAccessLog": lambda organization, actor, n: _support_opening(organization, actor),
    "bulk.RevertEntry": lambda organization, actor, n: _revert_entry(organization, n),
}


def _imports_row(organization, model_name: str, **values):
    with tenant_context(organization):
        return apps.get_model("imports", model_name).objects.create(organization=organization, **values)


def _billing_subscription(organization):
    from billing.services import subscription_for

    return subscription_for(organization)


def _billing_details(organization, actor, n):
    from billing.services import update_billing_details

    return update_billing_details(
        organization=organization, actor=actor, data={"legal_name": f"Firm {n} SRL", "vat_id": "RO18547290"}
    )


def _billing_invoice(organization, n):
    with tenant_context(organization):
        return apps.get_model("billing", "Invoice").objects.create(
            organization=organization, stripe_id=f"in_test_{n}", state_at=timezone.now()
        )


def _support_grant(organization, actor):
    from support.services.grants import grant_support_access

    return grant_support_access(organization=organization, actor=actor, duration="1d")


def _support_opening(organization, actor):
    from support.services.grants import open_under_grant

    _support_grant(organization, actor)
    with tenant_context(organization):
        open_under_grant(organization_id=organization.pk, staff=actor, what="contact_list")


def _revert_entry(organization, n):
    from logicnet.bulk.models import RevertEntry

    with tenant_context(organization):
        return RevertEntry.objects.create(
            organization=organization,
            batch_ref=n,
            target="contacts.contact",
            record_id=n,
            action="updated",
            previous={"columns": {"first_name": "v2.1.x"}},
        )


def _consent_purpose(organization, actor, n):
    from consent.services.ledger import create_purpose

    return create_purpose(
        organization=organization, actor=actor, key=f"purpose-{n}", name=f"Purpose {n}", notice_text=f"Notice {n}"
    )


def _consent_record(organization, actor, n):
    from consent.services.ledger import record_by_staff

    contact = create_contact(organization=organization, actor=actor, data={"first_name": f"Consenting {n}"})
    return record_by_staff(
        organization=organization,
        actor=actor,
        contact=contact,
        purpose=_consent_purpose(organization, actor, n),
        action="given",
        note=f"said yes ({n})",
    )


def _consent_signup(organization, actor, n):
    from consent.models import PendingSignup
    from consent.services.ledger import current_notice

    purpose = _consent_purpose(organization, actor, n)
    with tenant_context(organization):
        return PendingSignup.objects.create(
            organization=organization, purpose=purpose, notice=current_notice(purpose), email=f"signup-{n}@example.net"
        )


def _retention_period(organization, actor, n):
    from retention.services.settings import set_retention_period

    return set_retention_period(organization=organization, actor=actor, rule="contact", period_days=30 * n)


def _legal_hold(organization, actor, n):
    from retention.services.settings import place_hold

    contact = _contact(organization, actor, n)
    return place_hold(organization=organization, actor=actor, reference=f"CASE-{n}", contact_id=contact.pk)


def _subprocessor_objection(organization, actor, n):
    from django.utils import timezone

    from logicnet.tenancy.roles import Actor
    from notices.models import SubProcessorChange
    from notices.services.subprocessors import OBJECTION_WINDOW, object_to_change

    change = SubProcessorChange.objects.create(summary=f"Change {n}", objection_until=timezone.now() + OBJECTION_WINDOW)
    return object_to_change(actor=Actor(organization, actor, "owner"), change=change)


def _privacy_request(organization, actor, n):
    return submit_request(
        organization=organization, rights=["access"], email=f"asker-{n}@example.net", channel="staff", actor=actor
    )


def _breach_row(organization, model_name: str, **values):
    with tenant_context(organization):
        return apps.get_model("breaches", model_name).objects.create(organization=organization, **values)


def _breach_notice(organization, n):
    # A notice as the platform publishes it. Its incident lives in the platform's own table,
    # out of the application role's reach (breaches/security.py): only its id is named.
    return _breach_row(
        organization,
        "BreachNotice",
        incident_id=10**6 + n,
        reference=f"BR-T-{n}",
        title="Incident",
        aware_at=timezone.now(),
    )


def _deal(organization, actor, n):
    from deals.services.deals import create_deal
    from deals.services.pipelines import create_pipeline

    pipeline = create_pipeline(organization=organization, actor=actor, name=f"Pipeline {n}")
    with tenant_context(organization):
        stage = pipeline.stages.first()
    return create_deal(
        organization=organization,
        actor=actor,
        title=f"Deal {n}",
        stage=stage,
        contacts=[_contact(organization, actor, n)],
        tags=[_row(organization, "Tag", name=f"deal-tag-{n}")],
    )


def _deal_row(organization, actor, n, kind: str):
    import datetime
    from decimal import Decimal

    from deals.services import catalog, deals, settings, transactions

    if kind == "settings":
        return settings.set_base_currency(organization=organization, actor=actor, currency="RON")
    if kind == "reason":
        return catalog.create_lost_reason(organization=organization, actor=actor, name=f"Reason {n}")
    if kind == "product":
        data = {"name": f"Product {n}", "code": "", "unit_price": Decimal("9.99"), "currency": "RON", "vat_rate": 19}
        return catalog.save_product(organization=organization, actor=actor, data=data)
    if kind == "rate":
        day = datetime.date(2026, 1, n)
        return catalog.set_currency_rate(
            organization=organization, actor=actor, currency="EUR", date=day, rate=Decimal(5)
        )
    if kind == "line":
        deal = _deal(organization, actor, n)
        return deals.add_line_item(
            organization=organization, actor=actor, deal=deal, description="Work", quantity=1, unit_price=Decimal(10)
        )
    return transactions.record_transaction(
        organization=organization,
        actor=actor,
        kind="invoice",
        date=datetime.date(2026, 1, n),
        amount=Decimal("10.00"),
        currency="RON",
        contact=_contact(organization, actor, n),
    )


def _privacy_row(organization, model_name: str, **values):
    with tenant_context(organization):
        return apps.get_model("privacy", model_name).objects.create(organization=organization, **values)


def _row(organization, model_name: str, **values):
    with tenant_context(organization):
        label = model_name if "." in model_name else f"contacts.{model_name}"
        return apps.get_model(label).objects.create(organization=organization, **values)


def _child(organization, actor, n, model_name: str, **values):
    return _row(organization, model_name, contact=_contact(organization, actor, n), **values)


def _participant(organization, actor, n):
    interaction = _row(organization, "activity.Interaction", kind="call", subject=f"Call {n}", author=actor)
    return _row(
        organization,
        "activity.InteractionParticipant",
        interaction=interaction,
        contact=_contact(organization, actor, n),
        occurred_at=interaction.occurred_at,
    )


def _contact(organization, actor, n):
    return create_contact(
        organization=organization, actor=actor, data={"first_name": f"Ana {n}", "email": f"contact-{n}@example.net"}
    )


def _key_version(organization):
    with tenant_context(organization):
        return create_key_version(organization.pk, reason="test")


RLS_LABELS = sorted(m._meta.label for m in rls_models())
TENANT_LABELS = sorted(m._meta.label for m in tenant_models() if m._meta.label not in RLS_EXEMPT)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _organization_ids(table: str) -> list[int | None]:
    return sorted({row[0] for row in _fetch(f"SELECT organization_id FROM {_quote(table)}")}, key=lambda x: x or 0)


def _current_setting() -> str | None:
    return _fetch("SELECT current_setting('app.organization_id', true)")[0][0]


def _current_user() -> str:
    return _fetch("SELECT current_user")[0][0]


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _make_rows(label: str, org_a, org_b, alice, charlie) -> None:
    factory = RLS_ROW_FACTORIES.get(label)
    if factory is None:
        pytest.fail(
            f"{label} is under row-level security but has no entry in RLS_ROW_FACTORIES (tests/test_tenancy.py)"
        )
    factory(org_a, alice, 1)
    factory(org_a, alice, 2)
    factory(org_b, charlie, 3)


# --- (1) every table under row-level security, generically ------------------------------------


def test_every_rls_model_has_a_row_factory():
    missing = [label for label in RLS_LABELS if label not in RLS_ROW_FACTORIES]
    assert not missing, f"add a row factory to RLS_ROW_FACTORIES for: {', '.join(missing)}"
    stale = [label for label in RLS_ROW_FACTORIES if label not in RLS_LABELS]
    assert not stale, f"RLS_ROW_FACTORIES names models that are not under row-level security: {stale}"


@pytest.mark.parametrize("label", RLS_LABELS)
def test_rls_reads_only_the_active_organization(label, org_a, org_b, alice, charlie):
    table = _model(label)._meta.db_table
    _make_rows(label, org_a, org_b, alice, charlie)

    with tenant_context(org_a):
        assert _organization_ids(table) == [org_a.pk]
    with tenant_context(org_b):
        assert _organization_ids(table) == [org_b.pk]
    # No organization set: the policy compares with NULL and no row passes.
    assert _current_setting() in ("", None)
    assert _organization_ids(table) == []


@pytest.mark.parametrize("label", RLS_LABELS)
def test_rls_refuses_writing_a_row_for_another_organization(label, org_a, org_b, alice, charlie):
    model = _model(label)
    table = _quote(model._meta.db_table)
    pk_column = _quote(model._meta.pk.column)
    _make_rows(label, org_a, org_b, alice, charlie)
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    assert "organization_id" in columns
    select_list = ", ".join("%s" if c == "organization_id" else _quote(c) for c in columns)
    insert = f"INSERT INTO {table} ({', '.join(map(_quote, columns))}) SELECT {select_list} FROM {table} WHERE {pk_column} = %s"

    with tenant_context(org_a):
        (row_of_a,) = _fetch(f"SELECT {pk_column} FROM {table} ORDER BY {pk_column} LIMIT 1")[0]
        # A copy of one of A's rows, labelled as B's: refused by the policy's WITH CHECK.
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            _fetch(insert + " RETURNING 1", [org_b.pk, row_of_a])
        if model._meta.db_table in APPEND_ONLY_TABLES:
            with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
                _fetch(f"UPDATE {table} SET organization_id = %s WHERE {pk_column} = %s", [org_b.pk, row_of_a])
        else:
            # Moving A's row to B is refused too; B's rows cannot even be found to change.
            with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
                _fetch(f"UPDATE {table} SET organization_id = %s WHERE {pk_column} = %s", [org_b.pk, row_of_a])
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET organization_id = organization_id WHERE organization_id = %s", [org_b.pk]
                )
                assert cursor.rowcount == 0
                cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [org_b.pk])
                assert cursor.rowcount == 0
    with tenant_context(org_b):
        assert _organization_ids(model._meta.db_table) == [org_b.pk]


# --- (2) the application role ---------------------------------------------------------------------


def test_tests_run_as_the_application_role(db):
    assert _current_user() == settings.DATABASE_APP_USER
    assert settings.DATABASE_OWNER["USER"] != settings.DATABASE_APP_USER


def test_application_role_has_no_power_beyond_its_grants(db):
    rows = _fetch(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolinherit FROM pg_roles"
        " WHERE rolname IN (%s, %s)",
        [settings.DATABASE_APP_USER, settings.DATABASE_PLATFORM_ROLE],
    )
    roles = {name: flags for name, *flags in rows}
    assert roles[settings.DATABASE_APP_USER] == [False, False, False, False, False]
    # The platform role bypasses nothing by itself: it sees everything only through the
    # platform_access policies, table by table.
    superuser, bypassrls, createrole, createdb, _inherit = roles[settings.DATABASE_PLATFORM_ROLE]
    assert (superuser, bypassrls, createrole, createdb) == (False, False, False, False)


def test_application_role_can_switch_to_no_other_role(db):
    """An injected statement in the web process cannot become a role that sees every
    organization: the application role is a member of no role, so SET ROLE and SET SESSION
    AUTHORIZATION to any other role (the platform role, the owner, a superuser) fail."""
    assert _fetch(
        "SELECT count(*) FROM pg_auth_members WHERE member = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ) == [(0,)]
    others = [name for (name,) in _fetch("SELECT rolname FROM pg_roles WHERE rolname <> current_user")]
    assert settings.DATABASE_PLATFORM_ROLE in others
    assert settings.DATABASE_OWNER["USER"] in others
    for role in others:
        for statement in (f"SET LOCAL ROLE {_quote(role)}", f"SET SESSION AUTHORIZATION {_quote(role)}"):
            with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
                _fetch(statement + "; SELECT 1")
    assert _current_user() == settings.DATABASE_APP_USER


def test_the_platform_role_logs_in_by_itself(platform_db):
    rows = _fetch("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [settings.DATABASE_PLATFORM_ROLE])
    assert rows == [(True,)]
    assert _platform_fetch("SELECT current_user, session_user") == [(settings.DATABASE_PLATFORM_ROLE,) * 2]


AUDIT_PATHS = {"audit_seal_events", "audit_redact_value", "audit_drop_checkpointed"}


def test_narrow_functions_belong_to_the_platform_role_and_return_ids_only(db):
    """The cross-tenant scans of beat are SECURITY DEFINER functions owned by the platform
    role and callable by the web role; none returns a table's rows."""
    functions = _fetch(
        "SELECT p.proname, pg_get_userbyid(p.proowner), pg_get_function_result(p.oid),"
        " has_function_privilege(%s, p.oid, 'EXECUTE') FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prosecdef",
        [settings.DATABASE_APP_USER],
    )
    assert {name for name, _owner, _result, _app in functions} >= {
        "logicnet_due_task_reminders",
        "logicnet_stalled_jobs",
        "logicnet_public_organization",
        *AUDIT_PATHS,
    }
    for name, owner, result, app_may_call in functions:
        if name in AUDIT_PATHS:
            # The audit log's privileged paths (seal, redact, drop) stay the owner's and are
            # the platform role's alone to call (logicnet.audit.database).
            assert not app_may_call, name
            continue
        assert name.startswith("logicnet_"), name
        assert owner == settings.DATABASE_PLATFORM_ROLE, name
        assert app_may_call, name
        assert "SETOF" not in result or "TABLE(" in result, f"{name} returns rows: {result}"


def test_application_roles_own_nothing_in_public(db):
    app_roles = [settings.DATABASE_APP_USER, settings.DATABASE_PLATFORM_ROLE]
    tables = _fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = ANY(%s)", [app_roles])
    assert tables == []
    owned = _fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = ANY(%s)",
        [app_roles],
    )
    assert owned == []
    assert _fetch("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0] > 0


# --- (2b) the tables that decide access ----------------------------------------------------------
# With organization A active, the web role once added an owner membership for another
# organization's user to A, changed and deleted other organizations' memberships, flipped
# another organization's two-factor requirement and made a user superuser. Each statement
# below is what an injected or buggy query would send.


def _refused(sql: str, params: list, match: str) -> None:
    with pytest.raises(ProgrammingError, match=match), transaction.atomic():
        _fetch(sql + " RETURNING 1", params)


def _changed(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def test_memberships_are_written_only_by_the_acting_user_in_the_active_organization(org_a, org_b, alice, charlie):
    insert = "INSERT INTO accounts_membership (organization_id, user_id, role, created_at) VALUES (%s, %s, %s, now())"
    with acting_user(alice), tenant_context(org_a):
        # Another organization's user made owner here; the acting user added elsewhere.
        _refused(insert, [org_a.pk, charlie.pk, "owner"], "row-level security")
        _refused(insert, [org_b.pk, alice.pk, "owner"], "row-level security")
        # Another organization's memberships cannot be found to change or remove.
        assert _changed("UPDATE accounts_membership SET role = 'member' WHERE organization_id = %s", [org_b.pk]) == 0
        assert _changed("DELETE FROM accounts_membership WHERE organization_id = %s", [org_b.pk]) == 0
        # Nor can one of ours be moved there.
        _refused(
            "UPDATE accounts_membership SET organization_id = %s WHERE user_id = %s",
            [org_b.pk, alice.pk],
            "permission denied",
        )
        # Changing a role in the active organization is what the members page does.
        assert (
            _changed(
                "UPDATE accounts_membership SET role = 'admin' WHERE organization_id = %s AND user_id <> %s",
                [org_a.pk, alice.pk],
            )
            == 1
        )
    with tenant_context(org_b):
        assert _fetch("SELECT user_id, role FROM accounts_membership WHERE organization_id = %s", [org_b.pk]) == [
            (charlie.pk, "owner")
        ]
    # No organization active: no membership can be written at all.
    assert _changed("DELETE FROM accounts_membership", []) == 0


def test_only_the_active_organization_row_can_change(org_a, org_b, alice):
    with acting_user(alice), tenant_context(org_a):
        assert _changed("UPDATE accounts_organization SET require_two_factor = true WHERE id = %s", [org_b.pk]) == 0
        assert _changed("DELETE FROM accounts_organization WHERE id = %s", [org_b.pk]) == 0
        assert _changed("UPDATE accounts_organization SET require_two_factor = true WHERE id = %s", [org_a.pk]) == 1
        # Whether an organization is active is the platform's to decide (offboarding).
        _refused("UPDATE accounts_organization SET is_active = false WHERE id = %s", [org_a.pk], "permission denied")
    org_b.refresh_from_db()
    assert org_b.require_two_factor is False


def test_the_web_role_cannot_make_anyone_platform_staff(org_a, alice):
    with acting_user(alice), tenant_context(org_a):
        for column in ("is_superuser", "is_staff"):
            _refused(f"UPDATE accounts_user SET {column} = true WHERE id = %s", [alice.pk], "permission denied")
        _refused(
            "INSERT INTO accounts_user (password, email, full_name, phone, is_active, is_staff, is_superuser,"
            " date_joined, language, privacy_policy_version)"
            " VALUES ('', 'new-root@example.net', 'Root', '', true, true, true, now(), 'en', '')",
            [],
            "row-level security",
        )
        _refused(
            "INSERT INTO accounts_user_user_permissions (user_id, permission_id)"
            " SELECT %s, id FROM auth_permission LIMIT 1",
            [alice.pk],
            "permission denied",
        )
        _refused("INSERT INTO auth_group (name) VALUES ('root')", [], "permission denied")
        # What the app itself changes on a user still works (sign-in, profile).
        assert (
            _changed("UPDATE accounts_user SET last_login = now(), full_name = 'Alice A.' WHERE id = %s", [alice.pk])
            == 1
        )
    alice.refresh_from_db()
    assert (alice.is_staff, alice.is_superuser) == (False, False)


def test_a_users_own_rows_are_seen_and_written_only_as_that_user(alice, bob):
    """Account data packages have no organization: a row policy keyed by the acting user
    (settings.TENANCY_USER_OWNED_MODELS) keeps each user's to themselves."""
    from accounts.models import AccountDataPackage

    with user_context(alice):
        mine = AccountDataPackage.objects.create(user=alice)
        assert list(AccountDataPackage.objects.values_list("pk", flat=True)) == [mine.pk]
    with user_context(bob):
        assert _fetch("SELECT id FROM accounts_accountdatapackage") == []
        assert _changed("UPDATE accounts_accountdatapackage SET state = 'ready' WHERE id = %s", [mine.pk]) == 0
        assert _changed("DELETE FROM accounts_accountdatapackage WHERE id = %s", [mine.pk]) == 0
        _refused(
            "INSERT INTO accounts_accountdatapackage (user_id, state, requested_at, size, sha256)"
            " VALUES (%s, 'queued', now(), 0, '')",
            [alice.pk],
            "row-level security",
        )
    # Nobody acting: nothing at all.
    assert _fetch("SELECT id FROM accounts_accountdatapackage") == []
    organization = create_organization(name="Own rows SRL", owner=alice)
    with pytest.raises(RuntimeError), tenant_context(organization), user_context(alice):
        pass  # an organization's block keeps its own settings


# --- (2c) nothing tells one organization about another -------------------------------------------


def _reference_error(sql: str, params: list) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        _fetch(sql + " RETURNING 1", params)
    cause = caught.value.__cause__
    assert cause.sqlstate == "23503"  # foreign_key_violation, in both cases
    return re.sub(r"\d+", "N", f"{cause.diag.message_primary} / {cause.diag.message_detail}")


def test_a_reference_to_another_organizations_row_fails_like_a_missing_one(org_a, org_b, alice, charlie):
    """A foreign key is checked by PostgreSQL without row-level security: another tenant's
    contact id once passed where a missing id failed, so ids could be probed."""
    theirs = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan"})
    task = RLS_ROW_FACTORIES["activity.Task"](org_a, alice, 1)
    with tenant_context(org_a):
        missing = _fetch("SELECT max(id) + 1000 FROM contacts_contact")[0][0] or 10**6
        update = "UPDATE activity_task SET contact_id = %s WHERE id = %s"
        assert _reference_error(update, [theirs.pk, task.pk]) == _reference_error(update, [missing, task.pk])
        insert = (
            "INSERT INTO activity_task (organization_id, title, contact_id, created_at) VALUES (%s, 'Probe', %s, now())"
        )
        assert _reference_error(insert, [org_a.pk, theirs.pk]) == _reference_error(insert, [org_a.pk, missing])
        assert "is not present in table" in _reference_error(insert, [org_a.pk, theirs.pk])


def test_every_reference_between_tenant_tables_is_checked_under_row_level_security(db):
    from logicnet.tenancy.rls import REFERENCE_TRIGGER_PREFIX, tenant_references

    references = tenant_references()
    assert ("activity.Task", "contact_id") in {(m._meta.label, f.column) for m, f in references}
    triggers = set(
        _fetch(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE %s",
            [REFERENCE_TRIGGER_PREFIX + "%"],
        )
    )
    for model, field in references:
        assert (model._meta.db_table, f"{REFERENCE_TRIGGER_PREFIX}{field.column}") in triggers, field


def test_a_new_organizations_slug_does_not_tell_that_the_name_is_taken(alice, charlie):
    first = create_organization(name="Alpha SRL", owner=alice)
    second = create_organization(name="Alpha SRL", owner=charlie)
    pattern = re.compile(r"^alpha-srl-[a-z2-9]{6}$")
    assert pattern.match(first.slug) and pattern.match(second.slug), (first.slug, second.slug)
    assert first.slug != second.slug


# --- (3) every tenant table has its policy ----------------------------------------------------------


def test_every_tenant_table_keeps_an_index_led_by_its_organization(db):
    """The row-level security predicate, a cascade from the organization and the foreign
    key's check when one is deleted all look rows up by organization: a model that drops its
    own index on it (organization_field(db_index=False)) must keep another that starts with it."""
    tables = sorted({_model(label)._meta.db_table for label in TENANT_LABELS if not _model(label)._meta.proxy})
    led = {
        table
        for (table,) in _fetch(
            "SELECT i.indrelid::regclass::text FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE a.attname = 'organization_id' AND i.indpred IS NULL"
        )
    }
    assert [table for table in tables if table not in led and f'"{table}"' not in led] == []
    # The import's tables carry no index on the organization alone any more.
    alone = {
        table
        for (table,) in _fetch(
            "SELECT i.indrelid::regclass::text FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE a.attname = 'organization_id' AND i.indnatts = 1"
        )
    }
    assert not alone & {"contacts_contact", "contacts_contactaddress", "contacts_contacttag", "bulk_revertentry"}


@pytest.mark.parametrize("label", TENANT_LABELS)
def test_tenant_table_has_forced_row_level_security(label, db):
    table = _model(label)._meta.db_table
    rows = _fetch("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", [table])
    assert rows == [(True, True)], f"{label}: row-level security must be enabled and forced"
    policies = {
        name: (roles, qual, check)
        for name, roles, qual, check in _fetch(
            "SELECT policyname, roles::text[], qual, with_check FROM pg_policies"
            " WHERE schemaname = 'public' AND tablename = %s",
            [table],
        )
    }
    assert "tenant_isolation" in policies, f"{label} has no tenant_isolation policy"
    roles, qual, check = policies["tenant_isolation"]
    assert roles == [settings.DATABASE_APP_USER]
    for predicate in (qual, check):
        # Plain equality on organization_id (an index can serve it), keyed by the setting.
        assert "organization_id =" in predicate
        assert "current_setting('app.organization_id'" in predicate
    assert policies["platform_access"][0] == [settings.DATABASE_PLATFORM_ROLE]


def test_rls_exemptions_are_justified_and_current():
    tenant_labels = {m._meta.label for m in tenant_models()}
    for label, reason in RLS_EXEMPT.items():
        assert reason.strip(), f"RLS_EXEMPT[{label!r}] needs a reason"
        assert label in tenant_labels, f"RLS_EXEMPT names {label}, which is not a tenant model"


def test_tenant_models_finds_every_model_linked_to_an_organization():
    """Scan every model (through tables included) for any relation to Organization: each
    must be a field named `organization`, or tenant_models() (and so RLS) would miss it."""
    linked, misnamed = set(), []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if field.concrete and field.is_relation and field.related_model is Organization:
                linked.add(model)
                if field.name != "organization":
                    misnamed.append(f"{model._meta.label}.{field.name}")
    assert not misnamed, f"name the organization foreign key `organization`: {misnamed}"
    found = set(tenant_models())
    assert found == linked
    assert {"accounts.Invitation", "accounts.Membership", "audit.AuditEvent", "jobs.Job"} <= {
        m._meta.label for m in found
    }


# --- (4) django-scopes: the application wall ---------------------------------------------------------


def test_scoped_manager_refuses_queries_outside_an_organization(org_a, org_b, alice, charlie):
    job_a = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    with pytest.raises(ScopeError):
        Job.objects.all()
    with tenant_context(org_a):
        assert list(Job.objects.values_list("pk", flat=True)) == [job_a.pk]
        assert active_organization_id() == org_a.pk
    assert active_organization_id() is None
    with pytest.raises(ScopeError):
        Job.objects.filter(pk=job_a.pk).exists()


def test_wall_two_holds_when_wall_one_is_switched_off(org_a, org_b, alice, charlie):
    """A query that forgets its filter (scopes disabled) still sees only its tenant."""
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    with tenant_context(org_a), scopes_disabled():
        assert set(Job.objects.values_list("organization_id", flat=True)) == {org_a.pk}
    with scopes_disabled():
        assert Job.objects.count() == 0


# --- (5) the audited platform bypass -------------------------------------------------------------
# The platform role is its own login and its own connection (the "platform" alias), so these
# tests commit their data: an uncommitted row of the test's transaction is invisible to it.


def _platform_fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connections["platform"].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _platform_events(action: str) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.using("platform").filter(action=action).order_by("pk"))


def test_platform_bypass_sees_every_organization_and_is_audited(platform_db, org_a, org_b, alice, charlie):
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    assert _platform_events("platform.bypass") == []

    with platform_bypass(actor=alice, reason="retention sweep"):
        assert _platform_fetch("SELECT current_user") == [(settings.DATABASE_PLATFORM_ROLE,)]
        assert set(Job.objects.values_list("organization_id", flat=True)) == {org_a.pk, org_b.pk}
        # The web role's own connection is untouched: still one role, no organization.
        assert _current_user() == settings.DATABASE_APP_USER
        assert _organization_ids("jobs_job") == []

    with pytest.raises(ScopeError):
        Job.objects.all()
    with scopes_disabled():
        assert Job.objects.count() == 0  # back on the application role
    (event,) = _platform_events("platform.bypass")
    assert event.actor_id == alice.pk
    assert event.details == {"reason": "retention sweep"}
    assert event.organization_id is None


def test_a_nested_bypass_is_one_audit_event(platform_db, org_a, alice):
    with platform_bypass(actor=alice, reason="outer"), platform_bypass(actor=alice, reason="inner"):
        assert Organization.objects.filter(pk=org_a.pk).exists()
    assert [e.details for e in _platform_events("platform.bypass")] == [{"reason": "outer"}]


def test_platform_bypass_inside_a_tenant_context_returns_to_it(platform_db, org_a, org_b, alice, charlie):
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    with tenant_context(org_a):
        with platform_bypass(actor=alice, reason="support ticket", organization=org_a):
            assert set(Job.objects.values_list("organization_id", flat=True)) == {org_a.pk, org_b.pk}
        assert _current_user() == settings.DATABASE_APP_USER
        assert _organization_ids("jobs_job") == [org_a.pk]
        assert Job.objects.count() == 1


def test_an_error_inside_the_bypass_is_not_hidden(platform_db, org_a, alice):
    with pytest.raises(ProgrammingError, match="no_such_table"), platform_bypass(actor=alice, reason="failing query"):
        _platform_fetch("SELECT * FROM no_such_table")
    assert _platform_events("platform.bypass") == []  # rolled back with the failed work


def test_the_stalled_job_sweep_finds_work_across_organizations_and_audits_each_run_once(
    platform_db, org_a, org_b, alice, charlie
):
    """beat scans every organization through a narrow function returning ids: one audit
    event for a run that found work, none for a quiet run (not one per minute)."""
    from logicnet.jobs.services import stalled_jobs

    assert stalled_jobs() == []
    ours = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    theirs = start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    old = "now() - interval '1 hour'"  # its message went out long ago (JOB_RESEND_AFTER_SECONDS)
    with tenant_context(org_a):
        _fetch(f"UPDATE jobs_job SET created_at = {old}, sent_at = {old} RETURNING 1")
    with tenant_context(org_b):
        _fetch(f"UPDATE jobs_job SET created_at = {old}, sent_at = {old} RETURNING 1")
    assert set(stalled_jobs()) == {(org_a.pk, ours.pk), (org_b.pk, theirs.pk)}
    with scopes_disabled():
        sweeps = AuditEvent.objects.using("platform").filter(action="platform.sweep")
        assert list(sweeps.values_list("organization_id", "details")) == [
            (None, {"reason": "stalled jobs", "organizations": 2, "jobs": 2})
        ]
    # The web role itself still sees neither job.
    assert _organization_ids("jobs_job") == []


def test_a_process_without_the_platform_alias_refuses_the_bypass(db, settings, alice):
    """The customer-facing web process has no platform credentials at all."""
    settings.PLATFORM_DATABASE = None
    with (
        pytest.raises(PlatformAccessUnavailable, match="platform database alias"),
        platform_bypass(actor=alice, reason="should not run"),
    ):
        pytest.fail("the bypass ran without the platform alias")


# --- (6) the setting is transaction-local and never outlives its block ------------------------------


def test_setting_does_not_leak_into_the_next_transaction(committed_db, org_a, alice):
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    with tenant_context(org_a):
        assert _current_setting() == str(org_a.pk)
        assert _organization_ids("jobs_job") == [org_a.pk]
    assert not connection.in_atomic_block
    with transaction.atomic():
        assert _current_setting() in ("", None)
        assert _organization_ids("jobs_job") == []
    # Same connection, autocommit: every statement is a transaction of its own.
    assert _current_setting() in ("", None)
    assert _organization_ids("jobs_job") == []


def test_setting_does_not_outlive_its_block_inside_a_longer_transaction(org_a, org_b, alice, charlie):
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    assert connection.in_atomic_block  # the test's transaction encloses everything below
    with tenant_context(org_a):
        assert _organization_ids("jobs_job") == [org_a.pk]
    assert _current_setting() in ("", None)
    assert _organization_ids("jobs_job") == []


def test_nested_contexts_restore_the_enclosing_organization(org_a, org_b, alice, charlie):
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    with tenant_context(org_a):
        with tenant_context(org_b):
            assert _organization_ids("jobs_job") == [org_b.pk]
            assert active_organization_id() == org_b.pk
        assert _current_setting() == str(org_a.pk)
        assert _organization_ids("jobs_job") == [org_a.pk]
        assert active_organization_id() == org_a.pk

        with pytest.raises(RuntimeError), tenant_context(org_b):
            assert _organization_ids("jobs_job") == [org_b.pk]
            raise RuntimeError("the inner block fails")
        # The savepoint's rollback put the enclosing organization back.
        assert _current_setting() == str(org_a.pk)
        assert _organization_ids("jobs_job") == [org_a.pk]
        assert list(Job.objects.values_list("organization_id", flat=True)) == [org_a.pk]


def test_reentering_the_same_organization_keeps_both_walls(org_a, org_b, alice, charlie):
    start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    with tenant_context(org_a):
        with CaptureQueriesContext(connection) as queries, tenant_context(org_a):
            assert _organization_ids("jobs_job") == [org_a.pk]
        # The setting already holds this organization: only a savepoint, nothing set again.
        assert not [q["sql"] for q in queries.captured_queries if "set_config" in q["sql"]]
        with tenant_context(org_a):
            with tenant_context(org_b):
                assert _organization_ids("jobs_job") == [org_b.pk]
            assert _current_setting() == str(org_a.pk)
            assert _organization_ids("jobs_job") == [org_a.pk]
    with tenant_context(org_a), scopes_disabled(), tenant_context(org_a):
        # Re-entered where the scope was switched off: the application wall stands again.
        assert get_scope() == {"_enabled": True, "organization": org_a.pk}
        assert _organization_ids("jobs_job") == [org_a.pk]
