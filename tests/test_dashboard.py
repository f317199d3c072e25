"""The dashboard: exact figures per chart (Decimal, converted by the rate of each group's
date), the organization's visibility rules, the CSV of each chart, and the page per role."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.services.contacts import create_contact
from contacts.services.custom_fields import update_contact_visibility
from deals.charts import bar_chart, nice_ceiling, short_number
from deals.dashboard import DashboardFilters, add_months, build_dashboard
from deals.models import Deal, Stage
from deals.services.catalog import create_lost_reason, set_currency_rate
from deals.services.deals import create_deal, set_deal_status
from deals.services.pipelines import create_pipeline
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor, Role
from tests.factories import make_member, make_user

D = Decimal
NOW = datetime.datetime(2026, 12, 15, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def pipeline(org_a, alice):
    return create_pipeline(
        organization=org_a, actor=alice, name="Sales", stages=[("=Qualified", 20), ("Proposal", 50), ("Signing", 90)]
    )


def stages(pipeline):
    with tenant_context(pipeline.organization_id):
        return list(Stage.objects.filter(organization_id=pipeline.organization_id, pipeline=pipeline))


def close(org, deal, status, at, actor, reason=None):
    deal = set_deal_status(
        organization=org, actor=actor, deal=deal, status=status, expected_version=deal.version, lost_reason=reason
    )
    with tenant_context(org):
        Deal.objects.filter(pk=deal.pk).update(closed_at=at)
    return deal


@pytest.fixture
def figures(org_a, alice, bob, pipeline):
    """Deals in RON and EUR, open, won and lost over three months."""
    qualified, proposal, signing = stages(pipeline)
    set_currency_rate(
        organization=org_a, actor=alice, currency="EUR", date=datetime.date(2026, 10, 1), rate=D("4.9700")
    )
    set_currency_rate(
        organization=org_a, actor=alice, currency="EUR", date=datetime.date(2026, 12, 1), rate=D("5.0000")
    )
    reason = create_lost_reason(organization=org_a, actor=alice, name="Price")

    def deal(title, stage, value, currency="RON", close_on=None, owner=alice):
        return create_deal(
            organization=org_a,
            actor=alice,
            title=title,
            stage=stage,
            value=D(value),
            currency=currency,
            expected_close=close_on,
            owner=owner,
        )

    deal("A", qualified, "1000.00", close_on=datetime.date(2026, 12, 20))
    deal("B", proposal, "200.00", "EUR", close_on=datetime.date(2027, 1, 10))
    deal("C", signing, "333.33", close_on=datetime.date(2027, 2, 28), owner=bob)
    deal("D", signing, "50.00", close_on=datetime.date(2027, 3, 1))  # after the three months
    won_october = deal("E", signing, "100.00", "EUR")
    close(org_a, won_october, "won", datetime.datetime(2026, 10, 5, 10, tzinfo=datetime.UTC), alice)
    won_december = deal("F", signing, "1500.00")
    close(org_a, won_december, "won", datetime.datetime(2026, 12, 2, 10, tzinfo=datetime.UTC), alice)
    lost = deal("G", proposal, "999.00", owner=bob)
    close(org_a, lost, "lost", datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC), alice, reason)
    return pipeline


def dashboard_for(org, user, role=Role.OWNER, **filters):
    with tenant_context(org):
        return build_dashboard(Actor(organization=org, user=user, role=role), DashboardFilters(**filters), now=NOW)


def series(chart):
    return {s.name: s.values for s in chart.series}


def test_every_chart_is_exact(org_a, alice, figures):
    board = dashboard_for(org_a, alice, pipeline=figures, months=3)
    pipeline = board.chart("pipeline")
    assert pipeline.labels == ["=Qualified", "Proposal", "Signing"]
    # Proposal: 200 EUR at today's rate (5.0000) = 1000.00 RON; Signing: 333.33 + 50.00 open.
    assert series(pipeline) == {
        "Value": [D("1000.00"), D("1000.00"), D("383.33")],
        "Weighted value": [D("200.00"), D("500.00"), D("345.00")],
    }
    won_lost = board.chart("won_lost")
    assert won_lost.labels == ["Oct 2026", "Nov 2026", "Dec 2026"]
    assert series(won_lost) == {"Won": [1, 0, 1], "Lost": [0, 1, 0]}
    # October's win converted by the rate of October (4.9700), December's is in RON.
    assert series(board.chart("won_value")) == {"Won value": [D("497.00"), D("0.00"), D("1500.00")]}
    forecast = board.chart("forecast")
    assert forecast.labels == ["Dec 2026", "Jan 2027", "Feb 2027"]
    assert series(forecast) == {
        "Open value": [D("1000.00"), D("1000.00"), D("333.33")],
        "Weighted forecast": [D("200.00"), D("500.00"), D("300.00")],
    }


def test_a_currency_without_a_rate_is_named_not_guessed(org_a, alice, pipeline):
    create_deal(organization=org_a, actor=alice, title="X", stage=stages(pipeline)[0], value=D("10"), currency="USD")
    chart = dashboard_for(org_a, alice, pipeline=pipeline).chart("pipeline")
    assert series(chart)["Value"][0] == D("0.00")
    assert "USD" in chart.notes[0]


def test_owner_filter_and_visibility_rules(org_a, alice, bob, figures):
    assert series(dashboard_for(org_a, alice, pipeline=figures, owner_id=bob.pk).chart("pipeline"))["Value"] == [
        D("0.00"),
        D("0.00"),
        D("333.33"),
    ]
    update_contact_visibility(organization=org_a, actor=alice, visibility="own")
    carol = make_user("carol@example.com")
    make_member(org_a, carol, Role.MEMBER)
    board = dashboard_for(org_a, carol, role=Role.MEMBER, pipeline=figures)
    assert all(not any(s.values) for s in board.chart("pipeline").series)
    assert series(board.chart("won_lost")) == {"Won": [0] * 6, "Lost": [0] * 6}


def test_overdue_tasks_and_new_contacts(org_a, alice, figures):
    from activity.services import create_task
    from contacts.models import Contact

    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana"})
    with tenant_context(org_a):
        Contact.objects.filter(pk=contact.pk).update(created_at=NOW - datetime.timedelta(days=8))  # Monday 7 Dec
    create_task(
        organization=org_a,
        actor=alice,
        title="Call back",
        due_at=NOW - datetime.timedelta(days=2),
        assignee=alice,
        contact=contact,
    )
    create_task(organization=org_a, actor=alice, title="Later", due_at=NOW + datetime.timedelta(days=2), assignee=alice)
    board = dashboard_for(org_a, alice, pipeline=figures)
    assert board.overdue_count == 1
    with tenant_context(org_a):
        assert [task.title for task in board.overdue_tasks] == ["Call back"]
    assert series(board.chart("overdue")) == {"Overdue tasks": [1]}
    new_contacts = board.chart("new_contacts")
    assert new_contacts.labels[-2:] == ["7 Dec", "14 Dec"]
    assert series(new_contacts)["New contacts"][-2:] == [1, 0]


def test_period_helpers():
    assert add_months(datetime.date(2026, 12, 15), 1) == datetime.date(2027, 1, 1)
    assert add_months(datetime.date(2026, 1, 31), -1) == datetime.date(2025, 12, 1)
    assert nice_ceiling(0) == 1 and nice_ceiling(7) == 10 and nice_ceiling(1.2) == 2 and nice_ceiling(230) == 250
    assert short_number(12500) == "12.5k" and short_number(3_000_000) == "3M" and short_number(40) == "40"


def test_the_svg_escapes_labels():
    svg = bar_chart(["<b>x</b>"], [[D("1.00")]], title='"quoted"')
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&quot;quoted&quot;" in svg


def test_the_page_and_its_csv(client, org_a, alice, figures):
    client.force_login(alice)
    response = client.get(reverse("dashboard", kwargs={"org_slug": org_a.slug}), secure=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg class="chart"') >= 3  # charts with something to show in the real month
    assert "Manage members" in page
    response = client.get(
        reverse("dashboard_chart_csv", kwargs={"org_slug": org_a.slug, "chart_key": "pipeline"}), secure=True
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["", "Value (RON)", "Weighted value (RON)"]
    assert rows[1][0] == "'=Qualified"  # a stage name a spreadsheet would run is written as text
    missing = client.get(
        reverse("dashboard_chart_csv", kwargs={"org_slug": org_a.slug, "chart_key": "nope"}), secure=True
    )
    assert missing.status_code == 404


def test_a_read_only_member_sees_the_charts_without_member_management(client, org_a, figures):
    reader = make_user("reader@example.com")
    make_member(org_a, reader, Role.READ_ONLY)
    client.force_login(reader)
    page = client.get(reverse("dashboard", kwargs={"org_slug": org_a.slug}), secure=True).content.decode()
    assert '<svg class="chart"' in page
    assert "Manage members" not in page


def test_an_organization_without_deals_gets_an_empty_state(client, org_b, charlie):
    client.force_login(charlie)
    page = client.get(reverse("dashboard", kwargs={"org_slug": org_b.slug}), secure=True).content.decode()
    assert "No pipeline yet" in page or "Nothing to show" in page


# --- stored totals ---------------------------------------------------------------------------------


def _live_and_stored(org, user, pipeline, owner_id=None):
    """The dashboard's deal groups summed over the deals and read from the stored totals."""
    from deals.dashboard import closed_rows, open_rows
    from deals.selectors import DealFilters, stored_totals

    actor = Actor(organization=org, user=user, role=Role.OWNER)
    today = NOW.date()
    since = add_months(today, -11)
    with tenant_context(org):
        stored = stored_totals(actor, DealFilters(owner_id=owner_id)).filter(pipeline_id=pipeline.pk)
        deals = Deal.objects.filter(organization=org, pipeline=pipeline)
        if owner_id:
            deals = deals.filter(owner_id=owner_id)

        def rows(found, *keys):
            return sorted(tuple(row[key] for key in keys) for row in found)

        def month_of(row):
            day = row["month"]
            return {**row, "month": day.date() if isinstance(day, datetime.datetime) else day}

        closed = ("month", "status", "currency", "n", "total")
        opened = ("month", "probability", "currency", "total")
        live = (
            rows(map(month_of, closed_rows(deals, None, since)), *closed),
            rows(map(month_of, open_rows(deals, None, org, today)), *opened),
        )
        kept = (
            rows(closed_rows(deals, stored, since), *closed),
            rows(open_rows(deals, stored, org, today), *opened),
        )
    return live, kept


def _stored_groups(org):
    from deals.models import DealTotal

    with tenant_context(org):
        return {
            (t.pipeline_id, t.status, t.stage_id, t.owner_id, t.month, t.currency): (t.deal_count, t.value_sum)
            for t in DealTotal.objects.filter(organization=org, deal_count__gt=0)
        }


def test_the_stored_totals_follow_every_write_path_and_match_the_deals(org_a, alice, bob, figures):
    from deals.services.deals import delete_deal, move_deal, reassign_deals, update_deal
    from deals.services.totals import recount_deal_totals
    from logicnet.bulk.writes import insert_rows

    _qualified, proposal, signing = stages(figures)
    with tenant_context(org_a):
        a = Deal.objects.get(organization=org_a, value=D("1000.00"))
        c = Deal.objects.get(organization=org_a, value=D("333.33"))
        d = Deal.objects.get(organization=org_a, value=D("50.00"))
    a = move_deal(organization=org_a, actor=alice, deal=a, stage=proposal, expected_version=a.version)
    update_deal(
        organization=org_a,
        actor=alice,
        deal=c,
        expected_version=c.version,
        title="C",
        value=D("444.44"),
        currency="EUR",
        expected_close=datetime.date(2027, 1, 31),
        owner=alice,
        company=None,
    )
    delete_deal(organization=org_a, actor=alice, deal=d, expected_version=d.version)
    reassign_deals(organization=org_a, actor=alice, deal_ids=[a.pk], owner=bob)
    with tenant_context(org_a):
        # The bulk COPY path (imports, seeds) passes the same triggers.
        insert_rows(
            Deal,
            org_a,
            [
                {
                    "title": f"Bulk {n}",
                    "value": D("10.05"),
                    "currency": "RON",
                    "pipeline_id": figures.pk,
                    "stage_id": signing.pk,
                    "status": "won",
                    "closed_at": datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC),  # 1 Dec in Bucharest
                    "owner_id": bob.pk,
                }
                for n in range(3)
            ],
        )
    for owner_id in (None, alice.pk, bob.pk):
        live, kept = _live_and_stored(org_a, alice, figures, owner_id)
        assert kept == live
    board = dashboard_for(org_a, alice, pipeline=figures, months=3)
    assert board.from_stored_totals
    assert series(board.chart("won_lost")) == {"Won": [1, 0, 4], "Lost": [0, 1, 0]}
    assert series(board.chart("won_value"))["Won value"][2] == D("1530.15")
    assert series(board.chart("pipeline"))["Value"] == [D("0.00"), D("2000.00"), D("2222.20")]

    before = _stored_groups(org_a)
    assert recount_deal_totals(organization=org_a, now=NOW) == len(before)
    assert _stored_groups(org_a) == before
    assert dashboard_for(org_a, alice, pipeline=figures).totals_recounted_at == NOW


def test_the_recount_repairs_totals_written_around_the_triggers(org_a, alice, figures):
    from deals.models import DealTotal
    from deals.services.totals import recount_deal_totals

    right = _stored_groups(org_a)
    with tenant_context(org_a):
        DealTotal.objects.filter(organization=org_a, status="open").update(deal_count=7, value_sum=D("1.00"))
    assert _stored_groups(org_a) != right
    recount_deal_totals(organization=org_a)
    assert _stored_groups(org_a) == right


def test_a_member_who_sees_some_deals_gets_live_sums_and_the_page_says_how_fresh(client, org_a, alice, bob, figures):
    from deals.services.totals import recount_deal_totals

    update_contact_visibility(organization=org_a, actor=alice, visibility="own")
    assert not dashboard_for(org_a, bob, role=Role.MEMBER, pipeline=figures).from_stored_totals
    url = reverse("dashboard", kwargs={"org_slug": org_a.slug})
    client.force_login(alice)
    page = client.get(url, secure=True).content.decode()
    assert "not recounted from the deals yet" in page
    recount_deal_totals(organization=org_a)
    page = client.get(url, secure=True).content.decode()
    assert "last recounted from every deal 0\xa0minutes ago" in page
    client.force_login(bob)
    assert "data-totals-freshness" not in client.get(url, secure=True).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_nightly_beat_task_recounts_every_organization(platform_db, org_a, org_b, alice, charlie, settings):
    from deals.models import DealSettings
    from deals.tasks import recount_totals

    assert settings.CELERY_BEAT_SCHEDULE["recount-deal-totals"]["task"] == recount_totals.name
    pipeline = create_pipeline(organization=org_a, actor=alice, name="Sales", stages=[("Lead", 10)])
    create_deal(organization=org_a, actor=alice, title="Roof", stage=stages(pipeline)[0], value=D("12.34"))
    before = _stored_groups(org_a)
    assert recount_totals() == 2
    assert _stored_groups(org_a) == before and list(before.values()) == [(1, D("12.34"))]
    for organization in (org_a, org_b):
        with tenant_context(organization):
            assert DealSettings.objects.get(organization=organization).totals_recounted_at is not None
