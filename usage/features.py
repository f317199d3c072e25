"""The features whose use is counted: a page of the organization, named for what it does.

Usage events name these keys, never a URL: a URL carries ids (which contact, which request),
and usage data must say nothing about the organization's customers. A page not listed here
is not counted at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.urls import NoReverseMatch, resolve, reverse
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.roles import Actor, Role, minimum_role_for, privacy_officer_may


@dataclass(frozen=True)
class Feature:
    key: str
    label: str
    # The page the panel links to: the feature's own page, or its list for a page of one
    # record (a link to "a contact" would need an id the usage data does not keep).
    link: str


FEATURES = [
    Feature("contacts.list", _("Contacts"), "contact_list"),
    Feature("contacts.detail", _("Contact pages"), "contact_list"),
    Feature("contacts.create", _("Add a contact"), "contact_create"),
    Feature("contacts.duplicates", _("Possible duplicates"), "contact_duplicates"),
    Feature("companies.list", _("Companies"), "company_list"),
    Feature("companies.detail", _("Company pages"), "company_list"),
    Feature("companies.create", _("Add a company"), "company_create"),
    Feature("tasks.mine", _("My tasks"), "my_tasks"),
    Feature("members", _("Team and invitations"), "members"),
    Feature("settings.organization", _("Organization settings"), "organization_settings"),
    Feature("settings.custom_fields", _("Custom fields"), "custom_fields"),
    Feature("settings.crm", _("CRM settings"), "crm_settings"),
    Feature("privacy.desk", _("Privacy desk"), "privacy_desk"),
    Feature("privacy.request", _("Privacy requests"), "privacy_desk"),
    Feature("privacy.record", _("Record a privacy request"), "privacy_desk_record"),
    Feature("privacy.settings", _("Privacy settings"), "privacy_desk_settings"),
]
BY_KEY = {feature.key: feature for feature in FEATURES}

# URL name of a page (GET) -> the feature it is.
PAGES = {
    "contact_list": "contacts.list",
    "contact_detail": "contacts.detail",
    "contact_create": "contacts.create",
    "contact_duplicates": "contacts.duplicates",
    "company_list": "companies.list",
    "company_detail": "companies.detail",
    "company_create": "companies.create",
    "my_tasks": "tasks.mine",
    "members": "members",
    "organization_settings": "settings.organization",
    "custom_fields": "settings.custom_fields",
    "crm_settings": "settings.crm",
    "privacy_desk": "privacy.desk",
    "privacy_desk_request": "privacy.request",
    "privacy_desk_record": "privacy.record",
    "privacy_desk_settings": "privacy.settings",
}

# Suggested to a member who has used nothing yet, in this order.
STARTERS = ["contacts.list", "companies.list", "tasks.mine", "members", "privacy.desk"]


def feature_for_page(url_name: str | None) -> str | None:
    return PAGES.get(url_name or "")


@cache
def _link_view(url_name: str):
    try:
        return resolve(reverse(url_name, kwargs={"org_slug": "x"})).func
    except NoReverseMatch:
        return None


def may_open(actor: Actor, feature: Feature) -> bool:
    """The feature's page is one the member may open (the rule the tenancy middleware applies)."""
    view = _link_view(feature.link)
    if view is None:
        return False
    return Role.at_least(actor.role, minimum_role_for(view, True)) or (
        actor.privacy_officer and privacy_officer_may(view)
    )


def link_for(feature: Feature, organization_slug: str) -> str:
    return reverse(feature.link, kwargs={"org_slug": organization_slug})
