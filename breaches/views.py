"""The organization's breach pages (/o/<org_slug>/privacy/breaches/): the incidents Logicnet
notified to it, with the 72-hour clocks and what Logicnet did. Admins, owners and privacy
officers; read only (the register is the platform's)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from breaches.selectors import contact_delivery, notice_row, published_notices, published_updates
from logicnet.tenancy.roles import Role, requires_role

breach_view = requires_role(read=Role.ADMIN, write=Role.ADMIN, privacy_officer=True)


@breach_view
def notice_list(request, org_slug):
    """Every published incident in full (an organization has few): its clocks, facts,
    phased updates and the state of the mail to its people."""
    now = timezone.now()
    notices = published_notices(request.actor)
    delivery = contact_delivery(request.actor, notices)
    rows = [{**notice_row(n, now=now), "updates": published_updates(n), "delivery": delivery[n.pk]} for n in notices]
    return render(request, "breaches/notices.html", {"rows": rows})
