"""The breach register in a real browser: the platform records an incident and tells the
affected organization (Art. 33(2), through the services the admin's actions call); the
organization's owner finds the notice on the privacy desk with its 72-hour clocks running,
the privacy contact address got the mail too, and once Logicnet has notified the authority
the page says so."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from breaches import services
from breaches.models import BreachIncident, RiskLevel
from logicnet.personal_data.registry import Category
from logicnet.tenancy.context import platform_bypass
from privacy.services.settings import update_privacy_settings
from tests.browser.test_crm_day import sign_in
from tests.factories import make_organization, make_user
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser


def test_a_platform_incident_reaches_the_organization_with_its_72_hour_clock(
    new_page, mailbox: Mailbox, start_job_worker, platform_db
):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    update_privacy_settings(organization=organization, actor=owner, data={"contact_email": "dpo@alpha.example"})
    staff = make_user("root@logicnet.example", "Platform Admin")
    start_job_worker()

    with platform_bypass(actor=staff, reason="test: record an incident"):
        incident = services.save_incident(
            incident=BreachIncident(
                title="Backup bucket readable",
                aware_at=timezone.now() - timedelta(hours=5),
                confidentiality=True,
                data_categories=[Category.CONTACT],
                period_start=timezone.now() - timedelta(days=30),
                period_end=timezone.now(),
                consequences="Addresses may be used for phishing.",
                measures_taken="Bucket closed; keys rotated.",
                contact_point="privacy@logicnet.example",
                risk_level=RiskLevel.HIGH,
                organization_ids=[organization.pk],
            ),
            actor=staff,
        )
        services.notify_organizations(incident=incident, actor=staff)

    # Art. 33(2): the owner and the organization's privacy contact address are told.
    told = mailbox.wait_for(owner.email, subject=incident.reference, timeout=30)
    assert "72 hours" in told.get_body(preferencelist=("plain",)).get_content()
    mailbox.wait_for("dpo@alpha.example", subject=incident.reference, timeout=30)

    page: Page = new_page("owner")
    sign_in(page, owner)
    page.goto(f"/o/{organization.slug}/privacy/")
    page.get_by_role("link", name=re.compile("Personal data breaches")).first.click()
    notice = page.get_by_role("region", name=re.compile(incident.reference))
    expect(notice).to_be_visible()
    expect(notice.get_by_text("Bucket closed; keys rotated.")).to_be_visible()
    # Logicnet's clock started 5 hours ago; the organization's when it was told.
    expect(notice.locator(".authority-clock .breach-countdown")).to_have_text(re.compile(r"^6[67]h \d\dm left$"))
    expect(notice.locator(".organization-clock .breach-countdown")).to_have_text(re.compile(r"^7[01]h \d\dm left$"))

    with platform_bypass(actor=staff, reason="test: the authority is notified"):
        incident.authority_notified_at = timezone.now()
        incident.authority_reference = "ANSPDCP-2026-77"
        services.save_incident(incident=incident, actor=staff)
    page.reload()
    notice = page.get_by_role("region", name=re.compile(incident.reference))
    expect(notice.locator(".authority-clock")).to_contain_text("notified in time")
    expect(notice.locator(".authority-clock")).to_contain_text("reference ANSPDCP-2026-77")
