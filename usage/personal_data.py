"""Personal-data classification of Logicnet's own cookies and usage data (Logicnet is the
controller), with the purposes and retention rules they need (declared here, swept by
usage.services.sweep_usage_retention)."""

import datetime

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.policy import HOSTING
from logicnet.personal_data.registry import (
    Category,
    Erasure,
    LegalBasis,
    Plain,
    RetentionAction,
    classify,
    define_purpose,
    define_retention,
    not_personal,
    personal,
    user_via,
)

# The policy's "personalise your experience ... relevant content and recommendations": only
# with the person's consent to analytics (the cookie banner), withdrawn as easily.
PERSONALISATION = define_purpose(
    "usage_personalisation",
    _(
        "personalising your experience: the features you used recently and suggestions of others, "
        "only with your consent to analytics"
    ),
    LegalBasis.CONSENT,
    sub_processors=[HOSTING],
)
COOKIE_CONSENT = define_purpose(
    "cookie_consent",
    _("remembering and proving your cookie choice (GDPR Art. 7(1))"),
    LegalBasis.LEGAL_OBLIGATION,
    sub_processors=[HOSTING],
)

USAGE_EVENTS = define_retention(
    "usage_events",
    _("usage data (features used and when): 13 months, and deleted at once when you withdraw consent"),
    anchor="occurred_at",
    duration=datetime.timedelta(days=396),
)
COOKIE_CHOICE = define_retention(
    "cookie_choice",
    _("your cookie choices: 2 years, the proof of consent for the usage data kept meanwhile"),
    anchor="recorded_at",
    duration=datetime.timedelta(days=730),
)
COOKIE_CHOICE_DEVICE = define_retention(
    "cookie_choice_device",
    _("the IP address and browser recorded with a cookie choice: 90 days"),
    anchor="recorded_at",
    duration=datetime.timedelta(days=90),
    action=RetentionAction.ANONYMISE,
)

PLAIN_USAGE = "a feature name from a fixed list (never a URL or an id) and a time; counted in SQL"
PLAIN_DEVICE = "the address and browser a cookie choice came from: proof of consent, blanked after 90 days"


def _choice(category, *, retention=COOKIE_CHOICE, plaintext=Plain.CHOICE, provided=False):
    return personal(
        category,
        subject=user_via("user"),
        erasure=Erasure.DELETE_ROW,
        retention=retention,
        purpose=COOKIE_CONSENT,
        plaintext=plaintext,
        provided=provided,
    )


classify(
    "usage.CookieChoice",
    {
        "id": not_personal(),
        "visitor_id": _choice(Category.DEVICE, plaintext=Plain.SESSION),
        "user": _choice(Category.IDENTITY, plaintext=Plain.ACCOUNT),
        "notice_version": not_personal("version of the cookie notice"),
        "analytics": _choice(Category.USAGE, provided=True),
        "recorded_at": _choice(Category.USAGE, plaintext=Plain.TIMESTAMP),
        "ip_address": _choice(Category.DEVICE, retention=COOKIE_CHOICE_DEVICE, plaintext=PLAIN_DEVICE),
        "user_agent": _choice(Category.DEVICE, retention=COOKIE_CHOICE_DEVICE, plaintext=PLAIN_DEVICE),
    },
)


def _usage(category, plaintext=PLAIN_USAGE):
    return personal(
        category,
        subject=user_via("user"),
        erasure=Erasure.DELETE_ROW,
        retention=USAGE_EVENTS,
        purpose=PERSONALISATION,
        plaintext=plaintext,
    )


classify(
    "usage.UsageEvent",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "user": _usage(Category.IDENTITY, Plain.ACCOUNT),
        "feature": _usage(Category.USAGE),
        "occurred_at": _usage(Category.USAGE, Plain.TIMESTAMP),
    },
)
