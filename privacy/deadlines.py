"""The legal clock of a data-subject request (GDPR Art. 12(3)-(4)).

One calendar month from receipt, counted in the controller's time zone: received on
15 March, due on 15 April; a month with no such day ends on its last day (received on
31 January, due on 28 or 29 February), as the EU rule on periods (Regulation 1182/71,
Art. 3(2)(c)) and dateutil's `relativedelta` both have it. An extension adds two further
months to the same count, and may only be decided within the first month, with reasons.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

ANSWER_MONTHS = 1
EXTENSION_MONTHS = 2


def local_day(moment: datetime.datetime, time_zone: str) -> datetime.date:
    """The calendar day `moment` falls on in `time_zone`."""
    return moment.astimezone(ZoneInfo(time_zone)).date()


def due_on(received_at: datetime.datetime, time_zone: str) -> datetime.date:
    return local_day(received_at, time_zone) + relativedelta(months=ANSWER_MONTHS)


def extended_due_on(received_at: datetime.datetime, time_zone: str) -> datetime.date:
    return local_day(received_at, time_zone) + relativedelta(months=ANSWER_MONTHS + EXTENSION_MONTHS)


def today(time_zone: str, now: datetime.datetime | None = None) -> datetime.date:
    from django.utils import timezone

    return local_day(now or timezone.now(), time_zone)


def days_left(deadline: datetime.date, time_zone: str, now: datetime.datetime | None = None) -> int:
    """Whole days until the deadline (0 on the day itself, negative once overdue)."""
    return (deadline - today(time_zone, now)).days


def may_extend(received_at: datetime.datetime, time_zone: str, now: datetime.datetime | None = None) -> bool:
    """Art. 12(3): the person is told of an extension within one month of receipt."""
    return today(time_zone, now) <= due_on(received_at, time_zone)
