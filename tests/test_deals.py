"""Deals: services (moves, concurrency, lost reasons, archiving a stage with its deals,
history), exact Decimal money, visibility, and the row-level walls of the new tables."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Organization
from contacts.services.contacts import create_contact
from contacts.services.custom_fields import update_contact_visibility
from deals.access import visible_deals
from deals.models import Deal, DealEvent, Stage
from deals.money import RateBook, cents, line_total, weighted
from deals.selectors import DealFilters, board, column_page, deal_history
from deals.services.catalog import create_lost_reason, import_currency_rates, set_currency_rate
from deals.services.deals import StaleDealError, create_deal, move_deal, set_deal_status, update_deal
from deals.services.pipelines import archive_stage, create_pipeline, reorder_stages
from deals.services.settings import set_base_currency
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor, Role
from tests.factories import make_member, make_user

D = Decimal


@pytest.fixture
def pipeline(org_a, alice):
    return create_pipeline(organization=org_a, actor=alice, name="Sales")


def stages_of(pipeline):
    with tenant_context(pipeline.organization_id):
        return list(Stage.objects.filter(organization_id=pipeline.organization_id, pipeline=pipeline))


def actor_of(organization, user, role=Role.OWNER):
    return Actor(organization=organization, user=user, role=role)


# --- money --------------------------------------------------------------------------------------


def test_conversion_uses_the_rate_of_the_latest_date_on_or_before_the_day():
    book = RateBook(
        "RON",
        [
            ("EUR", datetime.date(2026, 1, 2), D("4.9701")),
            ("EUR", datetime.date(2026, 1, 5), D("4.9755")),
            ("USD", datetime.date(2026, 1, 2), D("4.3312")),
        ],
    )
    assert book.to_base(D("1000.00"), "EUR", datetime.date(2026, 1, 4)) == D("4970.10")
    assert book.to_base(D("1000.00"), "EUR", datetime.date(2026, 1, 5)) == D("4975.50")
    assert book.to_base(D("0.10"), "EUR", datetime.date(2026, 1, 5)) == D("0.50")  # 0.49755 half-up
    assert book.to_base(D("12.34"), "RON", datetime.date(2020, 1, 1)) == D("12.34")
    assert book.to_base(D("1.00"), "EUR", datetime.date(2026, 1, 1)) is None  # no rate yet: not guessed
    assert book.to_base(D("3.33"), "USD", datetime.date(2026, 3, 1)) == D("14.42")  # 14.422896


def test_weighted_value_and_line_totals_are_exact():
    assert weighted(D("1000.00"), 35) == D("350.00")
    assert weighted(D("0.05"), 50) == D("0.03")  # 0.025 rounds half up
    assert weighted(D("333.33"), 33) == D("110.00")  # 109.9989
    assert line_total(D("3"), D("19.99"), D("10"), D("19")) == (D("53.97"), D("64.22"))
    assert cents(D("0.1") + D("0.2")) == D("0.30")


# --- pipelines and moves --------------------------------------------------------------------------


def test_first_pipeline_is_the_default_and_only_one_default(org_a, alice, pipeline):
    other = create_pipeline(organization=org_a, actor=alice, name="Renewals", make_default=True)
    with tenant_context(org_a):
        pipeline.refresh_from_db()
        assert other.is_default and not pipeline.is_default


def test_a_deal_moves_with_history_and_time_in_stage(org_a, alice, pipeline):
    first, second, *_ = stages_of(pipeline)
    deal = create_deal(organization=org_a, actor=alice, title="Roof for Ana", stage=first, value=D("100"))
    assert deal.owner == alice
    moved = move_deal(organization=org_a, actor=alice, deal=deal, stage=second, expected_version=deal.version)
    assert moved.stage == second and moved.version == deal.version + 1
    with tenant_context(org_a):
        events, spells = deal_history(moved)
    assert [e.kind for e in events] == [DealEvent.Kind.CREATED, DealEvent.Kind.STAGE]
    assert events[1].from_stage == first and events[1].to_stage == second and events[1].actor == alice
    assert [s.stage_name for s in spells] == [first.name, second.name]
    assert spells[0].left_at == events[1].at and spells[1].left_at is None


def test_a_move_against_a_stale_version_is_refused(org_a, alice, bob, pipeline):
    first, second, third, _fourth = stages_of(pipeline)
    deal = create_deal(organization=org_a, actor=alice, title="Fence", stage=first)
    move_deal(organization=org_a, actor=alice, deal=deal, stage=second, expected_version=deal.version)
    with pytest.raises(StaleDealError):
        move_deal(organization=org_a, actor=bob, deal=deal, stage=third, expected_version=deal.version)
    with tenant_context(org_a):
        deal.refresh_from_db()
    assert deal.stage_id == second.pk


def test_a_card_dropped_above_another_lands_there_even_when_the_gap_is_closed(org_a, alice, pipeline):
    first, second, *_ = stages_of(pipeline)
    a, b, _c = (create_deal(organization=org_a, actor=alice, title=t, stage=second) for t in "abc")
    with tenant_context(org_a):
        # Close the gap between a and b.
        Deal.objects.filter(pk=b.pk).update(position=a.position + 1)
        b.refresh_from_db()
    mover = create_deal(organization=org_a, actor=alice, title="m", stage=first)
    move_deal(organization=org_a, actor=alice, deal=mover, stage=second, expected_version=1, before=b)
    actor = actor_of(org_a, alice)
    with tenant_context(org_a):
        page, _cursor = column_page(actor, second, DealFilters())
        assert [d.title for d in page] == ["a", "m", "b", "c"]
    mover2 = create_deal(organization=org_a, actor=alice, title="n", stage=first)
    move_deal(organization=org_a, actor=alice, deal=mover2, stage=second, expected_version=1, before=a)
    with tenant_context(org_a):
        page, _cursor = column_page(actor, second, DealFilters())
        assert [d.title for d in page] == ["n", "a", "m", "b", "c"]


def test_lost_needs_a_reason_from_the_organizations_list(org_a, org_b, alice, charlie, pipeline):
    stage = stages_of(pipeline)[0]
    deal = create_deal(organization=org_a, actor=alice, title="Gate", stage=stage)
    with pytest.raises(ValidationError) as raised:
        set_deal_status(organization=org_a, actor=alice, deal=deal, status="lost", expected_version=1)
    assert "lost_reason" in raised.value.message_dict
    foreign = create_lost_reason(organization=org_b, actor=charlie, name="Price")
    with pytest.raises(ValidationError):
        set_deal_status(
            organization=org_a, actor=alice, deal=deal, status="lost", expected_version=1, lost_reason=foreign
        )
    reason = create_lost_reason(organization=org_a, actor=alice, name="Price")
    lost = set_deal_status(
        organization=org_a, actor=alice, deal=deal, status="lost", expected_version=1, lost_reason=reason
    )
    assert lost.status == "lost" and lost.lost_reason == reason and lost.closed_at
    won = set_deal_status(organization=org_a, actor=alice, deal=lost, status="won", expected_version=lost.version)
    assert won.lost_reason is None
    with pytest.raises(StaleDealError):
        set_deal_status(organization=org_a, actor=alice, deal=deal, status="open", expected_version=1)


def test_archiving_a_stage_moves_its_deals_never_losing_one(org_a, alice, pipeline):
    first, second, *_ = stages_of(pipeline)
    deals = [create_deal(organization=org_a, actor=alice, title=f"d{i}", stage=first) for i in range(3)]
    create_deal(organization=org_a, actor=alice, title="already", stage=second)
    with pytest.raises(ValidationError):
        archive_stage(organization=org_a, actor=alice, stage=first, move_to=first)
    assert archive_stage(organization=org_a, actor=alice, stage=first, move_to=second) == 3
    actor = actor_of(org_a, alice)
    with tenant_context(org_a):
        page, _cursor = column_page(actor, second, DealFilters())
        assert [d.title for d in page] == ["already", "d0", "d1", "d2"]
        assert Stage.objects.get(pk=first.pk).archived_at is not None
        assert DealEvent.objects.filter(deal__in=deals, kind="stage", to_stage=second).count() == 3
        assert all(Deal.objects.get(pk=d.pk).version == 2 for d in deals)
    stages = stages_of(pipeline)
    live = [s.pk for s in stages if s.archived_at is None]
    reorder_stages(organization=org_a, actor=alice, pipeline=pipeline, stage_ids=list(reversed(live)))
    with pytest.raises(ValidationError):
        reorder_stages(organization=org_a, actor=alice, pipeline=pipeline, stage_ids=[s.pk for s in stages])


def test_board_totals_in_base_currency_weighted_by_probability(org_a, alice, pipeline):
    first = stages_of(pipeline)[0]  # 10 %
    set_currency_rate(organization=org_a, actor=alice, currency="EUR", date=datetime.date(2026, 1, 1), rate=D("4.9750"))
    create_deal(organization=org_a, actor=alice, title="a", stage=first, value=D("1000.00"), currency="RON")
    create_deal(organization=org_a, actor=alice, title="b", stage=first, value=D("100.01"), currency="EUR")
    create_deal(organization=org_a, actor=alice, title="c", stage=first, value=D("5.00"), currency="USD")
    with tenant_context(org_a):
        columns = board(actor_of(org_a, alice), pipeline, DealFilters(), day=datetime.date(2026, 2, 1))
    column = columns[0]
    assert column.count == 3
    assert column.total == D("1497.55")  # 1000 + 100.01 x 4.975 = 497.54975 → 497.55
    assert column.weighted_total == D("149.76")  # 149.755 half up
    assert column.unconverted == ["USD"]
    assert DealFilters(value_min=D("200")).apply is not None
    with tenant_context(org_a):
        filtered = board(
            actor_of(org_a, alice), pipeline, DealFilters(value_min=D("200")), day=datetime.date(2026, 2, 1)
        )
    assert filtered[0].count == 1


def test_rates_from_csv_all_or_nothing(org_a, alice):
    set_base_currency(organization=org_a, actor=alice, currency="RON")
    with pytest.raises(ValidationError, match="Line 3"):
        import_currency_rates(
            organization=org_a, actor=alice, content=b"currency,date,rate\nEUR,2026-01-02,4.97\nEUR,bad,1\n"
        )
    assert (
        import_currency_rates(
            organization=org_a,
            actor=alice,
            content=b'currency,date,rate\nEUR,2026-01-02,"4,9701"\nUSD,2026-01-02,4.33\n',
        )
        == 2
    )
    # The same day again replaces its rate.
    assert import_currency_rates(organization=org_a, actor=alice, content=b"EUR,2026-01-02,5\n") == 1
    from deals.models import CurrencyRate

    with tenant_context(org_a):
        assert CurrencyRate.objects.get(currency="EUR").rate == D("5")


def test_update_records_value_changes_and_refuses_stale_versions(org_a, alice, pipeline):
    stage = stages_of(pipeline)[0]
    deal = create_deal(organization=org_a, actor=alice, title="Shed", stage=stage, value=D("10"))
    fields = {"title": "Shed", "currency": "RON", "expected_close": None, "owner": alice, "company": None}
    update_deal(organization=org_a, actor=alice, deal=deal, expected_version=1, value=D("12.50"), **fields)
    with pytest.raises(StaleDealError):
        update_deal(organization=org_a, actor=alice, deal=deal, expected_version=1, value=D("13"), **fields)
    with tenant_context(org_a):
        event = DealEvent.objects.get(deal=deal, kind="value")
    assert (event.from_value, event.to_value) == ("10.00 RON", "12.50 RON")


def test_members_under_own_visibility_see_their_deals_and_those_of_their_contacts(org_a, alice, bob, pipeline):
    update_contact_visibility(organization=org_a, actor=alice, visibility=Organization.ContactVisibility.OWN)
    stage = stages_of(pipeline)[0]
    bobs_contact = create_contact(organization=org_a, actor=bob, data={"first_name": "Ion", "owner": bob})
    mine = create_deal(organization=org_a, actor=bob, title="bob's", stage=stage)
    via_contact = create_deal(organization=org_a, actor=alice, title="via", stage=stage, contacts=[bobs_contact])
    hidden = create_deal(organization=org_a, actor=alice, title="alice's", stage=stage)
    member = actor_of(org_a, bob, Role.MEMBER)
    with tenant_context(org_a):
        seen = set(visible_deals(member).values_list("pk", flat=True))
        names = {mine.pk: "mine", via_contact.pk: "via", hidden.pk: "hidden"}
        assert {names.get(pk, pk) for pk in seen} == {"mine", "via"}
        assert hidden.pk in set(visible_deals(actor_of(org_a, alice)).values_list("pk", flat=True))
    reader = make_user("r@example.com", "R")
    make_member(org_a, reader, Role.READ_ONLY)
    with tenant_context(org_a):
        assert not visible_deals(actor_of(org_a, reader, Role.READ_ONLY)).exists()


def test_erasing_a_contact_unlinks_it_from_deals_and_blanks_its_transactions(platform_db, alice):
    """The deal stays (the organization's record, shared with others); the person's link
    goes. The transaction's amount stays under the accounting law; its description goes."""
    import datetime as dt

    from deals.models import DealContact, Transaction
    from deals.services.transactions import record_transaction
    from logicnet.personal_data.erasure import execute, plan
    from tests.factories import make_organization

    organization = make_organization("Erasure Deals SRL", owner=alice)
    pipeline = create_pipeline(organization=organization, actor=alice, name="Sales")
    stage = stages_of(pipeline)[0]
    ana = create_contact(organization=organization, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})
    ion = create_contact(organization=organization, actor=alice, data={"first_name": "Ion"})
    deal = create_deal(organization=organization, actor=alice, title="Roof", stage=stage, contacts=[ana, ion])
    row = record_transaction(
        organization=organization,
        actor=alice,
        kind="invoice",
        date=dt.date(2026, 1, 5),
        amount=D("99.90"),
        currency="RON",
        reference="F-17",
        description="Ana's roof, paid in cash",
        contact=ana,
        deal=deal,
    )
    execute(plan("contact", ana), audit=False)
    with tenant_context(organization):
        assert Deal.objects.filter(pk=deal.pk).exists()
        assert list(DealContact.objects.filter(deal=deal).values_list("contact_id", flat=True)) == [ion.pk]
        kept = Transaction.objects.get(pk=row.pk)
        assert (kept.amount, kept.reference, kept.description, kept.contact_id) == (D("99.90"), "F-17", "", None)
