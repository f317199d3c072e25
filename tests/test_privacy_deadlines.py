"""The legal clock of a data-subject request (GDPR Art. 12(3)): one calendar month from
receipt in the controller's time zone, the end-of-month rule, the two-month extension and
the day on which it may still be decided."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from privacy import deadlines

UTC = datetime.UTC
BUCHAREST = "Europe/Bucharest"


def at(day: str, time: str = "12:00", zone: str = BUCHAREST) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZoneInfo(zone))


def utc(day: str, time: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def date(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at("2027-03-15"), "2027-04-15"),
        # A month without that day ends on its last day (Regulation 1182/71, Art. 3(2)(c)).
        (at("2027-01-31"), "2027-02-28"),
        (at("2028-01-31"), "2028-02-29"),  # leap year
        (at("2028-01-29"), "2028-02-29"),
        (at("2027-01-29"), "2027-02-28"),
        (at("2027-03-31"), "2027-04-30"),
        (at("2027-11-30"), "2027-12-30"),
        (at("2027-12-31"), "2028-01-31"),
        # Counted in the controller's time zone: 23:30 UTC on 31 December is already
        # 1 January in Bucharest (UTC+2), so the month runs from 1 January.
        (utc("2026-12-31", "23:30"), "2027-02-01"),
        # Summer time (UTC+3): 21:30 UTC on 30 June is 1 July in Bucharest.
        (utc("2027-06-30", "21:30"), "2027-08-01"),
        (utc("2027-06-30", "20:59"), "2027-07-30"),
        # Midnight local is the new day; one minute before is the old one.
        (at("2027-05-01", "00:00"), "2027-06-01"),
        (at("2027-04-30", "23:59"), "2027-05-30"),
    ],
)
def test_one_calendar_month_from_receipt(received, due):
    assert deadlines.due_on(received, BUCHAREST) == date(due)


def test_the_same_moment_counts_in_each_controllers_own_time_zone():
    moment = utc("2026-12-31", "23:30")
    assert deadlines.due_on(moment, "UTC") == date("2027-01-31")
    assert deadlines.due_on(moment, BUCHAREST) == date("2027-02-01")
    assert deadlines.due_on(moment, "America/New_York") == date("2027-01-31")


@pytest.mark.parametrize(
    ("received", "extended"),
    [
        (at("2027-03-15"), "2027-06-15"),
        (at("2027-01-31"), "2027-04-30"),
        (at("2027-11-30"), "2028-02-29"),  # three months on, into a leap February
        (at("2026-11-30"), "2027-02-28"),
        (at("2027-12-31"), "2028-03-31"),
        (utc("2026-12-31", "23:30"), "2027-04-01"),
    ],
)
def test_an_extension_adds_two_further_months_to_the_same_count(received, extended):
    assert deadlines.extended_due_on(received, BUCHAREST) == date(extended)


@pytest.mark.parametrize(
    ("received", "now", "may_extend", "days_left"),
    [
        (at("2027-01-31"), at("2027-01-31", "18:00"), True, 28),
        (at("2027-01-31"), at("2027-02-27", "23:59"), True, 1),
        # On the due day itself the extension may still be decided...
        (at("2027-01-31"), at("2027-02-28", "00:00"), True, 0),
        (at("2027-01-31"), at("2027-02-28", "23:59"), True, 0),
        # ...and not the day after, when the request is overdue.
        (at("2027-01-31"), at("2027-03-01", "00:00"), False, -1),
        (at("2028-01-31"), at("2028-02-29", "12:00"), True, 0),
        (at("2028-01-31"), at("2028-03-01", "12:00"), False, -1),
        # The day turns at midnight in Bucharest, not in UTC.
        (at("2027-11-30"), utc("2027-12-30", "21:59"), True, 0),
        (at("2027-11-30"), utc("2027-12-30", "22:00"), False, -1),
    ],
)
def test_the_extension_may_be_decided_up_to_and_on_the_due_day(received, now, may_extend, days_left):
    due = deadlines.due_on(received, BUCHAREST)
    assert deadlines.may_extend(received, BUCHAREST, now) is may_extend
    assert deadlines.days_left(due, BUCHAREST, now) == days_left
