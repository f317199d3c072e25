"""The 72-hour clock of GDPR Art. 33(1).

The deadline is awareness + 72 hours. Notified after it, the notification must give the
reasons for the delay; not notified by it, the incident is overdue. An incident "unlikely to
result in a risk" needs no notification to the authority, so its clock does not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from breaches.models import NOTIFICATION_WINDOW, RiskLevel


@dataclass(frozen=True)
class Clock:
    started_at: datetime
    deadline: datetime
    stopped_at: datetime | None  # when the notification was made (None: not yet)
    now: datetime
    required: bool = True

    @property
    def remaining(self) -> timedelta:
        """Time left (negative once overdue), measured at the notification if there was one."""
        return self.deadline - (self.stopped_at or self.now)

    @property
    def running(self) -> bool:
        return self.required and self.stopped_at is None

    @property
    def overdue(self) -> bool:
        """Still to notify, and the 72 hours are over."""
        return self.running and self.now > self.deadline

    @property
    def late(self) -> bool:
        """Notified, or still to notify, after the deadline: the reasons are due (Art. 33(1))."""
        return self.required and (self.stopped_at or self.now) > self.deadline

    @property
    def hours_left(self) -> int:
        return int(self.remaining.total_seconds() // 3600)

    @property
    def countdown(self) -> str:
        """ "47h 05m" left, or "-3h 10m" past the deadline."""
        seconds = int(self.remaining.total_seconds())
        sign = "-" if seconds < 0 else ""
        minutes = abs(seconds) // 60
        return f"{sign}{minutes // 60}h {minutes % 60:02d}m"


def authority_clock(incident, *, now: datetime) -> Clock:
    """The platform's clock: from its awareness to the authority's notification."""
    return Clock(
        started_at=incident.aware_at,
        deadline=incident.aware_at + NOTIFICATION_WINDOW,
        stopped_at=incident.authority_notified_at,
        now=now,
        required=incident.risk_level != RiskLevel.UNLIKELY,
    )


def organization_clock(notice, *, now: datetime) -> Clock | None:
    """The controller's own clock (Art. 33(1) read with 33(2)): it becomes aware when its
    processor tells it. None until Logicnet has told the organization."""
    if notice.organization_notified_at is None:
        return None
    return Clock(
        started_at=notice.organization_notified_at,
        deadline=notice.organization_notified_at + NOTIFICATION_WINDOW,
        stopped_at=None,
        now=now,
        required=notice.risk_level != RiskLevel.UNLIKELY,
    )


def late_without_reasons(incident, *, now: datetime) -> bool:
    """The rule a save enforces: a late notification carries its reasons (Art. 33(1))."""
    clock = authority_clock(incident, now=now)
    return clock.stopped_at is not None and clock.late and not incident.late_reasons.strip()
