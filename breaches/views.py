"""The organization's breach pages (/o/<org_slug>/privacy/breaches/): the incidents Logicnet
notified to it, with the 72-hour clocks and what Logicnet did. Admins, owners and privacy
officers; read only (the register is the platform's)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from breaches.selectors import get_notice_for, notice_delivery, notice_row, published_notices, published_updates
from logicnet.tenancy.roles import Role, requires_role

breach_view = requires_role(read=Role.ADMIN, write=Role.ADMIN, privacy_officer=True)


@breach_view
def notice_list(request, org_slug):
    now = timezone.now()
    rows = [notice_row(notice, now=now) for notice in published_notices(request.actor)]
    return render(request, "breaches/notices.html", {"rows": rows})


@breach_view
def notice_detail(request, org_slug, notice_id: int):
    notice = get_notice_for(request.actor, notice_id)
    context = {
        **notice_row(notice),
        "updates": published_updates(notice),
        "delivery": notice_delivery(notice),
    }
    return render(request, "breaches/notice.html", context)
