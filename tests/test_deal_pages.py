"""Deal pages: the board (columns, totals, lazy pages, moves with a stale version refused),
the deal page (won/lost), the list, the admin pages, the money panel; roles and outsiders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from deals.models import Deal, Stage, Transaction
from deals.selectors import COLUMN_PAGE
from deals.services.catalog import create_lost_reason
from deals.services.deals import create_deal
from deals.services.pipelines import create_pipeline
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user


def url(name, organization, **kwargs):
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


@pytest.fixture
def pipeline(org_a, alice):
    return create_pipeline(organization=org_a, actor=alice, name="Sales")


@pytest.fixture
def stages(pipeline):
    with tenant_context(pipeline.organization_id):
        return list(Stage.objects.filter(pipeline=pipeline))


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com", "Read Only")
    make_member(org_a, user, Role.READ_ONLY)
    return user


def test_board_shows_columns_with_totals_and_pages_lazily(client, org_a, alice, stages, django_assert_max_num_queries):
    for i in range(COLUMN_PAGE + 5):
        create_deal(organization=org_a, actor=alice, title=f"Deal {i:02d}", stage=stages[0], value=Decimal("10.50"))
    client.force_login(alice)
    with django_assert_max_num_queries(40):
        response = client.get(url("deal_board", org_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Deal 00" in body and f"Deal {COLUMN_PAGE:02d}" not in body
    assert "315.00 RON" in body.replace("\u00a0", " ").replace(",", "")  # 30 x 10.50
    assert "Load more" in body
    column = client.get(url("deal_column", org_a, stage_id=stages[0].pk), {"after": _cursor_after(org_a, stages[0])})
    assert column.status_code == 200
    assert f"Deal {COLUMN_PAGE:02d}" in column.content.decode()


def _cursor_after(org, stage):
    with tenant_context(org):
        last = Deal.objects.filter(stage=stage).order_by("position", "id")[COLUMN_PAGE - 1]
    return f"{last.position}~{last.pk}"


def test_a_move_is_saved_and_a_stale_one_refused_with_the_card_as_it_is(client, org_a, alice, bob, stages):
    deal = create_deal(organization=org_a, actor=alice, title="Roof", stage=stages[0])
    client.force_login(alice)
    move = url("deal_move", org_a, deal_id=deal.pk)
    headers = {"HTTP_HX_REQUEST": "true"}
    ok = client.post(move, {"version": 1, "stage": stages[1].pk}, **headers)
    assert ok.status_code == 200 and 'data-version="2"' in ok.content.decode()
    client.force_login(bob)
    stale = client.post(move, {"version": 1, "stage": stages[2].pk}, **headers)
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "Someone else changed this deal" in body and f'data-stage="{stages[1].pk}"' in body
    # Without JavaScript the menu's form lands back on the board.
    plain = client.post(move, {"version": 2, "stage": stages[2].pk})
    assert plain.status_code == 302
    with tenant_context(org_a):
        assert Deal.objects.get(pk=deal.pk).stage_id == stages[2].pk


def _heads(body: str) -> dict[int, tuple[str, str, str]]:
    """The column headers swapped out of band: stage id -> (count, sum, weighted sum)."""
    import re

    found = re.findall(
        r'<header class="deal-column-head" id="stage-(\d+)-head" hx-swap-oob="true">.*?'
        r"<span data-count>(\d+)</span>.*?<span data-total>([^<]*)</span>.*?<span data-weighted>([^<]*)</span>",
        body,
        re.S,
    )
    return {
        int(pk): (count, total.removesuffix(" RON"), weighted.removesuffix(" RON"))
        for pk, count, total, weighted in found
    }


def test_a_move_answers_with_both_columns_totals_as_they_now_are(client, org_a, alice, bob, stages):
    from contacts.services.custom_fields import update_contact_visibility

    first, second = stages[0], stages[1]
    roof = create_deal(organization=org_a, actor=alice, title="Roof", stage=first, value=Decimal("1000.50"))
    create_deal(organization=org_a, actor=alice, title="Gate", stage=first, value=Decimal("20.00"))
    create_deal(organization=org_a, actor=alice, title="Fence", stage=second, value=Decimal("300.00"), owner=bob)
    client.force_login(alice)
    headers = {"HTTP_HX_REQUEST": "true"}
    board = client.get(url("deal_board", org_a)).content.decode()
    assert f'id="stage-{first.pk}-head"' in board and f'id="stage-{second.pk}-head"' in board
    moved = client.post(url("deal_move", org_a, deal_id=roof.pk), {"version": 1, "stage": second.pk}, **headers)
    assert moved.status_code == 200
    p1, p2 = first.probability, second.probability
    weighted = lambda amount, p: f"{(Decimal(amount) * p / 100).quantize(Decimal('0.01')):,.2f}"  # noqa: E731
    assert _heads(moved.content.decode()) == {
        first.pk: ("1", "20.00", weighted("20.00", p1)),
        second.pk: ("2", "1,300.50", weighted("1300.50", p2)),
    }
    # Moved on a filtered board: the totals are the filtered board's (the move URL keeps the query).
    board = client.get(url("deal_board", org_a), {"value_min": "100"}).content.decode()
    assert "/move/?value_min=100" in board
    back = client.post(
        url("deal_move", org_a, deal_id=roof.pk) + "?value_min=100", {"version": 2, "stage": first.pk}, **headers
    )
    assert _heads(back.content.decode()) == {
        first.pk: ("1", "1,000.50", weighted("1000.50", p1)),
        second.pk: ("1", "300.00", weighted("300.00", p2)),
    }
    # A refused move still brings the columns as they are; a member who sees only their own
    # deals gets their own sums.
    update_contact_visibility(organization=org_a, actor=alice, visibility="own")
    client.force_login(bob)
    with tenant_context(org_a):
        fence = Deal.objects.get(organization=org_a, value=Decimal("300.00"))
    stale = client.post(url("deal_move", org_a, deal_id=fence.pk), {"version": 9, "stage": first.pk}, **headers)
    assert stale.status_code == 409
    assert _heads(stale.content.decode()) == {
        first.pk: ("0", "0.00", "0.00"),
        second.pk: ("1", "300.00", weighted("300.00", p2)),
    }


def test_deal_page_marks_won_and_lost_with_a_reason(client, org_a, alice, stages):
    deal = create_deal(organization=org_a, actor=alice, title="Gate", stage=stages[0])
    reason = create_lost_reason(organization=org_a, actor=alice, name="Too expensive")
    client.force_login(alice)
    page = client.get(url("deal_detail", org_a, deal_id=deal.pk))
    assert page.status_code == 200 and "Too expensive" in page.content.decode()
    status = url("deal_status", org_a, deal_id=deal.pk)
    client.post(status, {"version": 1, "status": "lost"})
    with tenant_context(org_a):
        assert Deal.objects.get(pk=deal.pk).status == "open"  # no reason: refused
    client.post(status, {"version": 1, "status": "lost", "lost_reason": reason.pk})
    with tenant_context(org_a):
        assert Deal.objects.get(pk=deal.pk).lost_reason_id == reason.pk
    history = client.get(url("deal_detail", org_a, deal_id=deal.pk)).content.decode()
    assert "Stage history" in history and "Lost because" in history


def test_create_edit_and_list(client, org_a, alice, stages):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})
    client.force_login(alice)
    form = client.get(url("deal_create", org_a), {"contact": contact.pk})
    assert form.status_code == 200 and "Ana Pop" in form.content.decode()
    response = client.post(
        url("deal_create", org_a),
        {
            "title": "Windows",
            "stage": stages[1].pk,
            "value": "1200.00",
            "currency": "EUR",
            "contacts": [contact.pk],
            "owner": alice.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(org_a):
        deal = Deal.objects.get()
        assert deal.title == "Windows" and deal.value == Decimal("1200.00") and list(deal.contacts.all()) == [contact]
    edit = client.post(
        url("deal_edit", org_a, deal_id=deal.pk),
        {
            "version": 1,
            "title": "Windows x4",
            "value": "1300",
            "currency": "EUR",
            "contacts": [contact.pk],
            "owner": alice.pk,
        },
    )
    assert edit.status_code == 302
    stale = client.post(
        url("deal_edit", org_a, deal_id=deal.pk),
        {"version": 1, "title": "Old", "value": "1", "currency": "EUR", "owner": alice.pk},
    )
    assert stale.status_code == 409
    listing = client.get(url("deal_list", org_a), {"value_min": "1000"})
    assert "Windows x4" in listing.content.decode()
    assert "Windows x4" not in client.get(url("deal_list", org_a), {"value_min": "5000"}).content.decode()
    bulk = client.post(url("deal_bulk", org_a), {"action": "won", "ids": [deal.pk]})
    assert bulk.status_code == 302
    with tenant_context(org_a):
        assert Deal.objects.get(pk=deal.pk).status == "won"


def test_read_only_sees_the_board_without_forms(client, org_a, alice, reader, stages):
    create_deal(organization=org_a, actor=alice, title="Roof", stage=stages[0])
    client.force_login(reader)
    body = client.get(url("deal_board", org_a)).content.decode()
    assert "Roof" in body
    assert "Move to" not in body and "New deal" not in body and "sortable" not in body
    assert client.get(url("deal_settings", org_a)).status_code == 403


def test_admin_archives_a_stage_moving_its_deals(client, org_a, alice, stages):
    deal = create_deal(organization=org_a, actor=alice, title="Roof", stage=stages[0])
    client.force_login(alice)
    archive = url("deal_stage_archive", org_a, stage_id=stages[0].pk)
    assert "1 deal is in this stage" in client.get(archive).content.decode()
    assert client.post(archive, {"move_to": stages[2].pk}).status_code == 302
    with tenant_context(org_a):
        assert Deal.objects.get(pk=deal.pk).stage_id == stages[2].pk
    page = client.get(url("deal_settings", org_a))
    assert page.status_code == 200
    upload = client.post(
        url("deal_rate_upload", org_a),
        {"file": _upload(b"currency,date,rate\nEUR,2026-01-02,4.9701\n")},
    )
    assert upload.status_code == 302
    assert "4.9701" in client.get(url("deal_settings", org_a)).content.decode()


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("rates.csv", content, content_type="text/csv")


def test_money_panel_records_transactions_with_totals(client, org_a, alice, stages):
    company = create_company(organization=org_a, actor=alice, name="Alfa SRL")
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "company": company})
    deal = create_deal(organization=org_a, actor=alice, title="Roof", stage=stages[0], contacts=[contact])
    client.force_login(alice)
    add = url("deal_contact_transaction_add", org_a, contact_id=contact.pk)
    for amount in ("100.10", "0.20"):
        client.post(
            add,
            {
                "kind": "invoice",
                "date": "2026-01-05",
                "amount": amount,
                "currency": "RON",
                "reference": "F-1",
                "deal": deal.pk,
            },
        )
    panel = client.get(url("deal_contact_panel", org_a, contact_id=contact.pk)).content.decode()
    assert "100.30 RON" in panel.replace(",", "") and "Roof" in panel
    with tenant_context(org_a):
        assert Transaction.objects.filter(company=company).count() == 2
    company_panel = client.get(url("deal_company_panel", org_a, company_id=company.pk))
    assert company_panel.status_code == 200 and "Record a transaction" in company_panel.content.decode()
    assert 'id="money"' in client.get(url("contact_detail", org_a, contact_id=contact.pk)).content.decode()


def test_outsider_gets_404(client, org_a, org_b, alice, charlie, stages):
    deal = create_deal(organization=org_a, actor=alice, title="Roof", stage=stages[0])
    client.force_login(charlie)
    assert client.get(url("deal_detail", org_b, deal_id=deal.pk)).status_code == 404
    assert (
        client.post(url("deal_move", org_b, deal_id=deal.pk), {"version": 1, "stage": stages[1].pk}).status_code == 404
    )
    assert client.get(url("deal_board", org_a)).status_code == 404


def test_dashboard_links_to_the_board(client, org_a, alice):
    client.force_login(alice)
    body = client.get(reverse("dashboard", kwargs={"org_slug": org_a.slug})).content.decode()
    assert url("deal_board", org_a) in body and "next releases" not in body


def test_the_deal_list_saves_views_like_the_contact_list(client, org_a, alice, bob, reader, stages):
    from contacts.models import SavedView

    create_deal(organization=org_a, actor=alice, title="Small gate", stage=stages[0], value=Decimal("50.00"))
    create_deal(organization=org_a, actor=alice, title="Big roof", stage=stages[0], value=Decimal("500.00"))
    client.force_login(alice)
    listed = client.get(url("deal_list", org_a), {"value_min": "100", "cursor": "junk"}).content.decode()
    assert "Big roof" in listed and "Small gate" not in listed
    assert 'class="chip"' in listed and "Value from" in listed  # the active filter as a chip
    saved = client.post(
        url("deal_view_save", org_a), {"name": " Big  ones ", "query": "value_min=100&status=open&nope=1"}
    )
    with tenant_context(org_a):
        view = SavedView.objects.get(organization=org_a, entity="deal")
    assert view.name == "Big ones" and view.params == {"status": ["open"], "value_min": ["100"]}
    assert saved.status_code == 302 and saved["Location"].endswith(f"?status=open&value_min=100&view={view.pk}")
    page = client.get(saved["Location"]).content.decode()
    assert "Big ones" in page and 'aria-current="page"' in page and "Small gate" not in page
    # The contacts' saved views stay theirs, and a personal view stays its owner's.
    assert "Big ones" not in client.get(url("contact_list", org_a)).content.decode()
    client.force_login(bob)
    assert "Big ones" not in client.get(url("deal_list", org_a)).content.decode()
    client.post(url("deal_view_save", org_a), {"name": "Team view", "query": "status=won", "is_shared": "1"})
    client.force_login(alice)
    assert "Team view" in client.get(url("deal_list", org_a)).content.decode()
    deleted = client.post(url("saved_view_delete", org_a, view_id=view.pk))
    assert deleted.status_code == 302 and deleted["Location"] == url("deal_list", org_a)
    client.force_login(reader)
    assert client.post(url("deal_view_save", org_a), {"name": "Mine", "query": ""}).status_code == 403
