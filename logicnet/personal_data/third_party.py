"""Classification of the models Django and third-party apps install.

They hold account, session and security data of users (Logicnet is the controller); none
holds contact data."""

from __future__ import annotations

from logicnet.personal_data.registry import (
    Category,
    Erasure,
    Plain,
    Subject,
    classify,
    not_personal,
    personal,
    user_via,
)


def _user_sessions(user) -> list[str]:
    from allauth.usersessions.models import UserSession

    return list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))


def account_rule(
    category,
    *,
    subject,
    purpose="account",
    provided=False,
    erasure=Erasure.DELETE_ROW,
    retention="account",
    plaintext=Plain.ACCOUNT,
    secret=False,
):
    return personal(
        category,
        subject=subject,
        erasure=erasure,
        retention=retention,
        purpose=purpose,
        provided=provided,
        plaintext=plaintext,
        secret=secret,
    )


# --- Django ----------------------------------------------------------------------------------

for label, names in {
    "auth.Permission": ["id", "name", "content_type", "codename"],
    "auth.Group": ["id", "name", "permissions"],
    "contenttypes.ContentType": ["id", "app_label", "model"],
}.items():
    classify(label, {name: not_personal("schema metadata") for name in names})

classify(
    "admin.LogEntry",
    {
        "id": not_personal(),
        "action_time": account_rule(
            Category.USAGE,
            subject=user_via("user"),
            purpose="security_log",
            retention="security_log",
            plaintext=Plain.AUDIT,
        ),
        "user": account_rule(
            Category.IDENTITY,
            subject=user_via("user"),
            purpose="security_log",
            retention="security_log",
            plaintext=Plain.AUDIT,
        ),
        "content_type": not_personal(),
        "object_id": not_personal("a row id"),
        # The admin names the object it changed (a user's email, an organization's name).
        "object_repr": account_rule(
            Category.IDENTITY,
            subject=user_via("user"),
            purpose="security_log",
            retention="security_log",
            plaintext=Plain.AUDIT,
            erasure=Erasure.ANONYMISE,
        ),
        "action_flag": not_personal(),
        "change_message": not_personal("names of the changed fields, not their values"),
    },
)

classify(
    "sessions.Session",
    {
        "session_key": personal(
            Category.DEVICE,
            subject=Subject("user", "session_key__in", _user_sessions),
            erasure=Erasure.DELETE_ROW,
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
            secret=True,
        ),
        "session_data": personal(
            Category.USAGE,
            subject=Subject("user", "session_key__in", _user_sessions),
            erasure=Erasure.DELETE_ROW,
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
            secret=True,
        ),
        "expire_date": not_personal(),
    },
)

# --- allauth ---------------------------------------------------------------------------------

classify(
    "account.EmailAddress",
    {
        "id": not_personal(),
        "user": account_rule(Category.IDENTITY, subject=user_via("user")),
        "email": account_rule(Category.CONTACT, subject=user_via("user"), provided=True),
        "verified": account_rule(Category.USAGE, subject=user_via("user")),
        "primary": not_personal(),
    },
)
classify(
    "account.EmailConfirmation",
    {
        "id": not_personal(),
        "email_address": account_rule(
            Category.IDENTITY,
            subject=user_via("email_address__user"),
            retention="email_confirmation",
            purpose="account",
        ),
        "created": not_personal(),
        "sent": not_personal(),
        "key": account_rule(
            Category.IDENTITY,
            subject=user_via("email_address__user"),
            retention="email_confirmation",
            purpose="account",
            secret=True,
        ),
    },
)
classify(
    "usersessions.UserSession",
    {
        "id": not_personal(),
        "user": account_rule(
            Category.IDENTITY,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
        ),
        "created_at": account_rule(
            Category.USAGE,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
        ),
        "ip": account_rule(
            Category.DEVICE,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
        ),
        "last_seen_at": account_rule(
            Category.USAGE,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
        ),
        "session_key": account_rule(
            Category.DEVICE,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
            secret=True,
        ),
        "user_agent": account_rule(
            Category.DEVICE,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
        ),
        "data": account_rule(
            Category.USAGE,
            subject=user_via("user"),
            retention="session",
            purpose="sessions",
            plaintext=Plain.SESSION,
        ),
    },
)

# --- django-otp ------------------------------------------------------------------------------

_DEVICE_COMMON = {
    "id": not_personal(),
    "confirmed": not_personal(),
    "throttling_failure_timestamp": account_rule(
        Category.USAGE,
        subject=user_via("user"),
        retention="two_factor",
        purpose="two_factor",
        plaintext=Plain.TWO_FACTOR,
    ),
    "throttling_failure_count": not_personal(),
    "created_at": account_rule(
        Category.USAGE,
        subject=user_via("user"),
        retention="two_factor",
        purpose="two_factor",
        plaintext=Plain.TWO_FACTOR,
    ),
    "last_used_at": account_rule(
        Category.USAGE,
        subject=user_via("user"),
        retention="two_factor",
        purpose="two_factor",
        plaintext=Plain.TWO_FACTOR,
    ),
    "user": account_rule(
        Category.IDENTITY,
        subject=user_via("user"),
        retention="two_factor",
        purpose="two_factor",
        plaintext=Plain.TWO_FACTOR,
    ),
    "name": account_rule(
        Category.DEVICE,
        subject=user_via("user"),
        retention="two_factor",
        purpose="two_factor",
        provided=True,
        plaintext=Plain.TWO_FACTOR,
    ),
}
classify(
    "otp_totp.TOTPDevice",
    {
        **_DEVICE_COMMON,
        "key": account_rule(
            Category.IDENTITY,
            subject=user_via("user"),
            retention="two_factor",
            purpose="two_factor",
            plaintext=Plain.TWO_FACTOR,
            secret=True,
        ),
        **{name: not_personal("TOTP parameters") for name in ("step", "t0", "digits", "tolerance", "drift", "last_t")},
    },
)
classify("otp_static.StaticDevice", dict(_DEVICE_COMMON))
classify(
    "otp_static.StaticToken",
    {
        "id": not_personal(),
        "device": account_rule(
            Category.IDENTITY,
            subject=user_via("device__user"),
            retention="two_factor",
            purpose="two_factor",
            plaintext=Plain.TWO_FACTOR,
        ),
        "token": account_rule(
            Category.IDENTITY,
            subject=user_via("device__user"),
            retention="two_factor",
            purpose="two_factor",
            plaintext=Plain.TWO_FACTOR,
            secret=True,
        ),
    },
)
