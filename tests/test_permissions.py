"""The permission matrix: every URL of the project, walked from the resolver, with each actor.

- anonymous: sent to sign-in from every page that is not public (public per-organization
  pages, /p/<org_slug>/..., are marked with @public_page: tests/test_public_pages.py);
- the outsider (owner of organization B): 404 on every /o/<A>/ URL, GET and POST, and 404
  on A's objects reached through B's own URLs;
- a read-only member of A: 403 on every POST, except what READ_ONLY_MAY_POST allows;
- members, admins and owners: never 403/404 on the pages their role may read.

A new URL needs nothing here unless it is public (add it to PUBLIC_URL_NAMES) or takes an
argument the matrix cannot fill yet (add it to OBJECT_KWARGS); the coverage test says which.
The Django admin is tested in test_admin.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.exports import MEMBER_EXPORT
from accounts.models import Membership
from accounts.services import invite_member
from consent.services.ledger import create_purpose
from contacts.services.contacts import create_contact
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job, start_job
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.public import is_public_page
from logicnet.tenancy.roles import Role, minimum_role_for, privacy_officer_may
from privacy.models import PrivacyRequest
from privacy.services.fulfilment import PACKAGE_JOB
from privacy.services.requests import submit_request
from tests.factories import make_member, make_user

# Pages anyone may open. allauth's own pages (sign-in, sign-up, password reset, email
# confirmation...) keep their own rules and are public here as a group.
# allauth's confirmation page, acting for the link's owner (accounts.views.ConfirmEmailView).
PUBLIC_URL_NAMES = {
    "healthz",
    "favicon",
    "set_language",
    "invitation_accept",
    "privacy_policy",
    "cookie_settings",
    "account_confirm_email",
    "subprocessors",
    "stripe_webhook",  # Stripe's signature is its authentication (tests/test_billing.py)
    # RFC 8058 one-click unsubscribe from product news: a signed token, no account needed.
    "product_news_unsubscribe",
}
PUBLIC_VIEW_MODULES = ("allauth.",)
EXCLUDED_PREFIXES = ("admin/",)  # tests/test_admin.py

# The only writes a read-only member may make.
# Lookups and list filters are POSTed so that personal values stay out of URLs (and so out
# of access logs); they change nothing, and a read-only member may use them.
READ_ONLY_MAY_POST = {"organization_leave", "contact_list", "company_list", "crm_search"}

ORG_KWARG = "org_slug"
# How to fill each URL argument with a real object of organization A (see `world`).
OBJECT_KWARGS: dict[str, Callable[[World], int | str]] = {
    # A dashboard chart by its key (its CSV); another organization sees its own numbers only.
    "chart_key": lambda world: "pipeline",
    "membership_id": lambda world: world.member_membership.pk,
    "invitation_id": lambda world: world.invitation.pk,
    "job_id": lambda world: world.job.pk,
    "contact_id": lambda world: world.crm["contact"].pk,
    "other_contact_id": lambda world: world.crm["other_contact"].pk,
    "company_id": lambda world: world.crm["company"].pk,
    "interaction_id": lambda world: world.crm["interaction"].pk,
    "task_id": lambda world: world.crm["task"].pk,
    "view_id": lambda world: world.crm["saved_view"].pk,
    "field_id": lambda world: world.crm["custom_field"].pk,
    "tag_id": lambda world: world.crm["tag"].pk,
    "request_id": lambda world: world.privacy_request.pk,
    "privacy_job_id": lambda world: world.privacy_job.pk,
    "purpose_id": lambda world: world.crm["consent_purpose"].pk,
    "package_token": lambda world: _account_package_token(world.users[Role.MEMBER]),
    "deal_id": lambda world: world.crm["deal"].pk,
    "pipeline_id": lambda world: world.crm["pipeline"].pk,
    "stage_id": lambda world: world.crm["stage"].pk,
    "line_id": lambda world: world.crm["line"].pk,
    "reason_id": lambda world: world.crm["lost_reason"].pk,
    "product_id": lambda world: world.crm["product"].pk,
    "transaction_id": lambda world: world.crm["transaction"].pk,
    "import_id": lambda world: _an_import(world),
    "grant_id": lambda world: world.support_grant.pk,
    # Dismissing is POST-only and the web role cannot write announcements (the admin process
    # does): the matrix reaches the view with any id; tests/test_announcements.py dismisses.
    "announcement_id": lambda world: 1,
    # The account pages are walked as the plain member: their own support thread.
    "support_request_id": lambda world: world.support_request.pk,
    "support_message_id": lambda world: world.support_message.pk,
    "export_id": lambda world: _member_export(world),
}


def _an_import(world) -> int:
    """An import of organization A, uploaded and mapped (its file is not needed by the pages)."""
    from imports.models import Import

    if getattr(world, "_import_id", None) is None:
        with tenant_context(world.org_a):
            world._import_id = Import.objects.create(
                organization=world.org_a,
                file_type="csv",
                status=Import.Status.READY,
                file_info={"kind": "csv", "headers": ["Email"], "rows": 1},
                columns=[{"column": 0, "field": "email"}],
            ).pk
    return world._import_id


def _member_export(world) -> int:
    """A finished contacts export started by the member (reachable by them, the admin and
    the owner; exports/views.py), made once per world."""
    if "export" not in world.crm:
        from exports.services import start_export
        from logicnet.tenancy.roles import Actor

        member = Membership.objects.select_related("organization").get(pk=world.member_membership.pk)
        job = start_export(actor=Actor.from_membership(member), list_key="contacts", params={}, file_format="csv")
        execute_job(organization_id=world.org_a.pk, job_id=job.pk, final_attempt=True)
        world.crm["export"] = job.pk
    return world.crm["export"]


def _account_package_token(user) -> str:
    """A ready "download my data" package of `user` (the file written directly: building
    one needs the worker's platform alias, tests/test_account_privacy.py does that)."""
    from accounts.account_rights import download_token, store_package_file
    from accounts.models import AccountDataPackage
    from logicnet.tenancy.context import user_context

    with user_context(user):
        package = AccountDataPackage.objects.create(user=user, state="ready", finished_at=timezone.now())
    store_package_file(package_id=package.pk, user_id=user.pk, content=b"PK")
    return download_token(package)


@dataclass(frozen=True)
class Route:
    name: str | None
    pattern: str
    kwargs: tuple[str, ...]
    callback: Callable

    @property
    def in_organization(self) -> bool:
        return ORG_KWARG in self.kwargs

    @property
    def object_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k != ORG_KWARG)

    @property
    def is_public(self) -> bool:
        return (
            self.name in PUBLIC_URL_NAMES
            or self.callback.__module__.startswith(PUBLIC_VIEW_MODULES)
            or is_public_page(self.callback)
        )

    def __str__(self) -> str:
        return self.name or self.pattern


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "", kwargs: tuple = ()) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        found = kwargs + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner, found)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(name, prefix + str(entry.pattern), found, entry.callback)


ALL_ROUTES = [r for r in _walk(get_resolver()) if not r.pattern.startswith(EXCLUDED_PREFIXES)]
UNNAMED = [r for r in ALL_ROUTES if not r.is_public and r.name is None]
UNFILLABLE = [r for r in ALL_ROUTES if not r.is_public and set(r.object_kwargs) - set(OBJECT_KWARGS)]
COVERED = [r for r in ALL_ROUTES if not r.is_public and r not in UNNAMED and r not in UNFILLABLE]
ORG_ROUTES = [r for r in COVERED if r.in_organization]
# URL arguments that name no object of an organization (a dashboard chart is every
# organization's, holding its own numbers): no "A's object through B's URL" to refuse.
NOT_OBJECT_KWARGS = {"chart_key"}
ORG_OBJECT_ROUTES = [r for r in ORG_ROUTES if set(r.object_kwargs) - NOT_OBJECT_KWARGS]
ACCOUNT_ROUTES = [r for r in COVERED if not r.in_organization]
METHODS = ["GET", "POST"]


def test_every_url_is_public_or_in_the_matrix():
    assert not UNNAMED, f"name these URL patterns (or list them as public): {[r.pattern for r in UNNAMED]}"
    missing = {k for r in UNFILLABLE for k in r.object_kwargs if k not in OBJECT_KWARGS}
    assert not UNFILLABLE, (
        f"the permission matrix cannot fill {sorted(missing)} for {[str(r) for r in UNFILLABLE]}: "
        "add them to OBJECT_KWARGS in tests/test_permissions.py (or the URL to PUBLIC_URL_NAMES)"
    )
    stale = PUBLIC_URL_NAMES - {r.name for r in ALL_ROUTES}
    assert not stale, f"PUBLIC_URL_NAMES lists URLs that no longer exist: {stale}"
    # The matrix is not empty by accident.
    assert {"dashboard", "members", "members_export", "job_detail", "job_download"} <= {r.name for r in ORG_ROUTES}
    assert {"export_index", "export_start", "export_detail", "export_download"} <= {r.name for r in ORG_ROUTES}
    assert {"home", "sessions", "account_privacy", "account_package_download"} <= {r.name for r in ACCOUNT_ROUTES}


# --- the world: organization A with every role, and one object of each kind ----------------------


@dataclass
class World:
    org_a: object
    org_b: object
    users: dict[str, object]
    member_membership: Membership
    invitation: object
    job: Job
    crm: dict
    privacy_request: PrivacyRequest
    privacy_job: Job
    support_grant: object
    support_request: object
    support_message: object

    def url(self, route: Route, org_slug: str | None = None) -> str:
        kwargs = {k: OBJECT_KWARGS[k](self) for k in route.object_kwargs}
        if route.in_organization:
            kwargs[ORG_KWARG] = org_slug or self.org_a.slug
        return reverse(route.name, kwargs=kwargs)


@pytest.fixture
def world(alice, bob, charlie, org_a, org_b) -> World:
    admin = make_user("admin@example.com", "Admin User")
    reader = make_user("reader@example.com", "Read Only")
    make_member(org_a, admin, Role.ADMIN)
    make_member(org_a, reader, Role.READ_ONLY)
    invitation = invite_member(organization=org_a, actor=alice, email="invitee@example.net", role=Role.MEMBER)
    job = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=True)  # so its download exists
    with tenant_context(org_a):
        job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    privacy_request = submit_request(
        organization=org_a, rights=["access"], email="ana@example.net", channel=PrivacyRequest.Channel.STAFF
    )
    with tenant_context(org_a):
        # A package job of the request, as the desk polls it (not run: the URL needs only the row).
        privacy_job = Job.objects.create(
            organization=org_a, kind=PACKAGE_JOB, params={"request_id": privacy_request.pk, "kind": "access"}
        )
    support = _support_objects(org_a, alice, bob)
    return World(
        **support,
        org_a=org_a,
        org_b=org_b,
        users={Role.OWNER: alice, Role.ADMIN: admin, Role.MEMBER: bob, Role.READ_ONLY: reader, "outsider": charlie},
        member_membership=Membership.objects.get(organization=org_a, user=bob),
        invitation=invitation,
        job=job,
        crm=_crm_objects(org_a, alice),
        privacy_request=privacy_request,
        privacy_job=privacy_job,
    )


def _support_objects(organization, owner, member) -> dict:
    """A support access grant of A, and the member's own support request with a screenshot."""
    from logicnet.tenancy.context import user_context
    from support.services.grants import grant_support_access
    from support.services.requests import Screenshot, open_request

    request = open_request(
        user=member, subject="Help", body="Please", screenshot=Screenshot(b"\x89PNG\r\n\x1a\n" + b"0" * 16, "image/png")
    )
    with user_context(member):
        message = request.messages.get()
    return {
        "support_grant": grant_support_access(organization=organization, actor=owner, duration="1d"),
        "support_request": request,
        "support_message": message,
    }


def _crm_objects(organization, owner) -> dict:
    """One CRM object of each kind in organization A, owned by its owner."""
    from activity import models as activity
    from contacts import models as crm

    contact = create_contact(organization=organization, actor=owner, data={"first_name": "Ana", "last_name": "Pop"})
    other = create_contact(organization=organization, actor=owner, data={"first_name": "Ana", "last_name": "Popa"})
    with tenant_context(organization):
        company = crm.Company.objects.create(organization=organization, name="Alfa SRL")
        interaction = activity.Interaction.objects.create(organization=organization, subject="Call", author=owner)
        activity.InteractionParticipant.objects.create(
            organization=organization, interaction=interaction, contact=contact, occurred_at=interaction.occurred_at
        )
        return {
            "contact": contact,
            "other_contact": other,
            "company": company,
            "interaction": interaction,
            "task": activity.Task.objects.create(
                organization=organization, title="Call back", assignee=owner, contact=contact
            ),
            "saved_view": crm.SavedView.objects.create(
                organization=organization, entity="contact", name="Mine", owner=owner, is_shared=True
            ),
            "custom_field": crm.CustomField.objects.create(
                organization=organization, entity="contact", key="vat", label="VAT", kind="text"
            ),
            "tag": crm.Tag.objects.create(organization=organization, name="vip"),
            "consent_purpose": create_purpose(
                organization=organization, actor=owner, key="newsletter", name="Newsletter", notice_text="Monthly."
            ),
            **_deal_objects(organization, owner, contact),
        }


def _deal_objects(organization, owner, contact) -> dict:
    """A pipeline with a deal (and a line), a lost reason, a product and a transaction."""
    import datetime
    from decimal import Decimal

    from deals.services import catalog, deals, pipelines, transactions

    pipeline = pipelines.create_pipeline(organization=organization, actor=owner, name="Sales")
    stage = pipeline.stages.order_by("position").first()
    deal = deals.create_deal(organization=organization, actor=owner, title="Roof", stage=stage, contacts=[contact])
    product = {"name": "Tiles", "code": "", "unit_price": Decimal(5), "currency": "RON", "vat_rate": Decimal(19)}
    return {
        "pipeline": pipeline,
        "stage": stage,
        "deal": deal,
        "line": deals.add_line_item(
            organization=organization, actor=owner, deal=deal, description="Work", quantity=1, unit_price=Decimal(9)
        ),
        "lost_reason": catalog.create_lost_reason(organization=organization, actor=owner, name="Price"),
        "product": catalog.save_product(organization=organization, actor=owner, data=product),
        "transaction": transactions.record_transaction(
            organization=organization,
            actor=owner,
            kind="invoice",
            date=datetime.date(2026, 1, 5),
            amount=Decimal("10.00"),
            currency="RON",
            contact=contact,
        ),
    }


def _request(client, method: str, url: str):
    return client.get(url) if method == "GET" else client.post(url, {})


def _ids(routes):
    return [str(r) for r in routes]


# --- anonymous ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ORG_ROUTES + ACCOUNT_ROUTES, ids=_ids(ORG_ROUTES + ACCOUNT_ROUTES))
def test_anonymous_is_sent_to_sign_in(route, method, client, world):
    url = world.url(route)
    response = _request(client, method, url)
    assert response.status_code == 302, f"{method} {url}: {response.status_code}"
    assert response["Location"].startswith(reverse("account_login") + "?next="), response["Location"]


# --- the outsider -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ORG_ROUTES, ids=_ids(ORG_ROUTES))
def test_outsider_gets_404_on_another_organizations_urls(route, method, client, world):
    client.force_login(world.users["outsider"])
    url = world.url(route)
    assert _request(client, method, url).status_code == 404, f"{method} {url}"


@pytest.mark.parametrize("route", ORG_OBJECT_ROUTES, ids=_ids(ORG_OBJECT_ROUTES))
def test_outsider_cannot_reach_another_organizations_objects_through_its_own(route, client, world):
    """Organization B's owner may do anything in B; A's objects are still not there."""
    client.force_login(world.users["outsider"])
    url = world.url(route, org_slug=world.org_b.slug)
    assert client.post(url, {}).status_code == 404, f"POST {url}"
    assert client.get(url).status_code in (404, 405), f"GET {url}"  # 405: POST-only, before any lookup
    # Nothing of A's changed hands.
    assert Membership.objects.filter(pk=world.member_membership.pk, role=Role.MEMBER).exists()
    with tenant_context(world.org_a):
        world.invitation.refresh_from_db()
        assert PrivacyRequest.objects.get(pk=world.privacy_request.pk).status == PrivacyRequest.Status.RECEIVED
    assert world.invitation.is_pending


# --- members of organization A ----------------------------------------------------------------------


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_ids(ORG_ROUTES))
def test_read_only_member_cannot_write(route, client, world):
    reader = world.users[Role.READ_ONLY]
    client.force_login(reader)
    url = world.url(route)
    response = client.post(url, {})
    if route.name in READ_ONLY_MAY_POST:
        assert response.status_code not in (403, 404), f"POST {url}"
    else:
        assert response.status_code == 403, f"POST {url}: {response.status_code}"
    assert Membership.objects.filter(pk=world.member_membership.pk, role=Role.MEMBER).exists()


# (route, role) pairs where a member of that role may read but not write; an allowed POST
# would change the fixture's data, so only the refusals are exercised.
WRITE_REFUSALS = [
    pytest.param(route, role, id=f"{route}-{role}")
    for route in ORG_ROUTES
    for role in (Role.MEMBER, Role.ADMIN)
    if not Role.at_least(role, minimum_role_for(route.callback, safe_method=False))
]


@pytest.mark.parametrize(("route", "role"), WRITE_REFUSALS)
def test_members_cannot_write_above_their_role(route, role, client, world):
    client.force_login(world.users[role])
    url = world.url(route)
    assert client.post(url, {}).status_code == 403, f"POST {url} as {role}"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.READ_ONLY])
@pytest.mark.parametrize("route", ORG_ROUTES, ids=_ids(ORG_ROUTES))
def test_members_read_what_their_role_allows(route, role, client, world):
    client.force_login(world.users[role])
    url = world.url(route)
    response = client.get(url)
    if Role.at_least(role, minimum_role_for(route.callback, safe_method=True)):
        # 405: a POST-only URL, reached but not with GET.
        assert response.status_code not in (403, 404) and response.status_code < 500, (
            f"GET {url}: {response.status_code}"
        )
    else:
        assert response.status_code == 403, f"GET {url}: {response.status_code}"


def test_owner_reads_every_organization_page(client, world):
    client.force_login(world.users[Role.OWNER])
    for route in ORG_ROUTES:
        url = world.url(route)
        assert client.get(url).status_code in (200, 302, 405), url


def test_only_declared_pages_are_above_read_only():
    """The pages a read-only member may not read, written out: a change here is deliberate."""
    restricted = {r.name for r in ORG_ROUTES if minimum_role_for(r.callback, safe_method=True) != Role.READ_ONLY}
    assert {"organization_settings", "job_detail", "job_download"} <= restricted
    assert {"deal_settings", "deal_pipeline_edit", "deal_stage_archive"} <= restricted
    # Exports copy personal data out in bulk: members and above (exports/services.py EXPORT_ROLE).
    assert {"export_index", "export_start", "export_detail", "export_download"} <= restricted
    assert not {"dashboard", "members"} & restricted
    admin_writes = {r.name for r in ORG_ROUTES if minimum_role_for(r.callback, safe_method=False) == Role.ADMIN}
    assert {"member_invite", "member_role", "member_remove", "invitation_revoke", "members_export"} <= admin_writes


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_ids(ORG_ROUTES))
def test_a_privacy_officer_passes_exactly_where_views_say_so(route, client, world):
    """A plain member appointed privacy officer reads what a member reads, plus the views
    marked `privacy_officer=True` (the privacy desk), whatever role those name."""
    from accounts.services import set_privacy_officer

    membership = world.member_membership
    set_privacy_officer(organization=world.org_a, actor=world.users[Role.OWNER], membership=membership, value=True)
    client.force_login(world.users[Role.MEMBER])
    url = world.url(route)
    response = client.get(url)
    if privacy_officer_may(route.callback) or Role.at_least(
        Role.MEMBER, minimum_role_for(route.callback, safe_method=True)
    ):
        assert response.status_code not in (403, 404) and response.status_code < 500, (
            f"GET {url}: {response.status_code}"
        )
    else:
        assert response.status_code == 403, f"GET {url}: {response.status_code}"


def test_the_privacy_desk_is_marked_for_privacy_officers():
    desk = {r.name for r in ORG_ROUTES if privacy_officer_may(r.callback)}
    assert {"privacy_desk", "privacy_desk_request", "privacy_desk_deny", "privacy_desk_extend"} <= desk
    assert "privacy_desk_settings" not in desk  # the admins'
    assert {r.name for r in ORG_ROUTES if r.name.startswith("privacy_desk")} - desk == {"privacy_desk_settings"}


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=_ids(ACCOUNT_ROUTES))
def test_signed_in_user_reaches_account_pages(route, client, world):
    client.force_login(world.users[Role.MEMBER])
    url = world.url(route)
    response = client.get(url)
    assert response.status_code not in (403, 404) and response.status_code < 500, f"GET {url}: {response.status_code}"
