"""Announcements: publish, show as a banner until dismissed, mail with a delivery status per
recipient; and the account holder's consent to product news.

The audience is resolved once, when the mail starts (one delivery row per recipient, unique
per announcement and user), so a retry after a crash mails only what is still pending. The
banner's list of live announcements is cached in Redis and cleared on publish: a signed-in
page costs one query (the user's dismissals) only while an announcement is live.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership
from announcements.models import Announcement, AnnouncementDelivery, AnnouncementDismissal, MarketingConsent
from logicnet.audit.services import record_event
from logicnet.tenancy.context import active_alias, platform_bypass, user_context
from logicnet.tenancy.roles import Role

log = logging.getLogger(__name__)

LIVE_CACHE_KEY = "announcements:live"
MAIL_BATCH = 200
UNSUBSCRIBE_SALT = "announcements.unsubscribe"

# --- the plan audience: filled by the billing app --------------------------------------------------

_plan_resolver: Callable[[str], Iterable[int]] | None = None


def register_plan_audience(resolver: Callable[[str, Iterable[int] | None], Iterable[int]]) -> None:
    """Billing registers how a plan key becomes organization ids (its AppConfig.ready): the
    resolver takes the plan key and the organizations to look among (None: all of them, which
    only the platform's context can read). Until it does, an announcement for a plan reaches
    nobody."""
    global _plan_resolver
    _plan_resolver = resolver


def _plan_organizations(plan_key: str, among: Iterable[int] | None = None) -> set[int]:
    return set(_plan_resolver(plan_key, among)) if _plan_resolver is not None else set()


# --- audience ---------------------------------------------------------------------------------------


def _membership_matches(announcement: dict, membership_rows: list[tuple[int, str]]) -> bool:
    """Whether a user with these (organization id, role) memberships is in the audience."""
    orgs = set(announcement["organization_ids"])
    plan = announcement["plan_key"]
    narrowed = bool(orgs) or announcement["owners_only"] or bool(plan)
    if not narrowed:
        return True
    plan_orgs = (
        _plan_organizations(plan, [organization_id for organization_id, _role in membership_rows]) if plan else None
    )
    for organization_id, role in membership_rows:
        if orgs and organization_id not in orgs:
            continue
        if announcement["owners_only"] and role != Role.OWNER:
            continue
        if plan_orgs is not None and organization_id not in plan_orgs:
            continue
        return True
    return False


def consenting_to_marketing(user_ids: Iterable[int] | None = None):
    """Users whose newest answer about product news is yes, who have not objected to
    marketing nor restricted processing (run where the consent rows are visible: the
    platform role, or acting for the user)."""
    newest = MarketingConsent.objects.filter(user=OuterRef("pk")).order_by("-recorded_at", "-pk").values("given")[:1]
    users = (
        get_user_model()
        .objects.annotate(marketing=Subquery(newest))
        .filter(marketing=True, marketing_opt_out_at__isnull=True, processing_restricted_at__isnull=True)
    )
    if user_ids is not None:
        users = users.filter(pk__in=list(user_ids))
    return users


def audience_user_ids(announcement: Announcement) -> list[int]:
    """Every active account holder the announcement is for (platform role: every user)."""
    users = get_user_model().objects.filter(is_active=True, deletion_requested_at__isnull=True)
    orgs = announcement.organization_ids
    if orgs or announcement.owners_only or announcement.plan_key:
        memberships = Membership.objects.filter(organization__is_active=True)
        if orgs:
            memberships = memberships.filter(organization_id__in=orgs)
        if announcement.owners_only:
            memberships = memberships.filter(role=Role.OWNER)
        if announcement.plan_key:
            memberships = memberships.filter(organization_id__in=_plan_organizations(announcement.plan_key))
        users = users.filter(pk__in=memberships.values("user_id"))
    ids = list(users.order_by("pk").values_list("pk", flat=True))
    if announcement.kind == Announcement.Kind.MARKETING:
        allowed = set(consenting_to_marketing(ids).values_list("pk", flat=True))
        ids = [pk for pk in ids if pk in allowed]
    return ids


# --- publishing -----------------------------------------------------------------------------------


def validate_announcement(announcement: Announcement) -> None:
    missing = [
        name
        for name in ("title_en", "title_ro", "body_en", "body_ro")
        if not (getattr(announcement, name) or "").strip()
    ]
    if missing:
        raise ValidationError({name: _("Write it in English and in Romanian.") for name in missing})


def publish_announcement(*, actor, announcement: Announcement, ip_address: str | None = None) -> Announcement:
    """Publish (once): the banner shows from now on; the mail starts after commit."""
    validate_announcement(announcement)
    alias = active_alias()
    with transaction.atomic(using=alias):
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.published_at is not None:
            return locked
        locked.published_at = timezone.now()
        locked.save(update_fields=["published_at"])
        record_event(
            action="announcement.published",
            actor=actor,
            target=locked,
            ip_address=ip_address,
            details={"kind": locked.kind, "organizations": len(locked.organization_ids)},
        )
        transaction.on_commit(lambda: _after_publish(locked), using=alias)
    return locked


def _after_publish(announcement: Announcement) -> None:
    from kombu.exceptions import OperationalError

    from announcements.tasks import send_announcement_mail_task

    cache.delete(LIVE_CACHE_KEY)
    if not announcement.send_email:
        return
    try:
        send_announcement_mail_task.delay(announcement.pk)
    except OperationalError:
        log.warning("announcement %s: the broker is unreachable; beat's sweep sends the mail", announcement.pk)


# --- the banner -----------------------------------------------------------------------------------


def live_announcements() -> list[dict]:
    """Published announcements whose banner still shows, as plain data (cached)."""
    rows = cache.get(LIVE_CACHE_KEY)
    if rows is None:
        now = timezone.now()
        rows = list(
            Announcement.objects.filter(published_at__isnull=False)
            .filter(Q(show_until__isnull=True) | Q(show_until__gt=now))
            .order_by("-published_at")
            .values(
                "pk",
                "kind",
                "title_en",
                "title_ro",
                "body_en",
                "body_ro",
                "organization_ids",
                "owners_only",
                "plan_key",
                "show_until",
            )[:20]
        )
        cache.set(LIVE_CACHE_KEY, rows, 300)
    now = timezone.now()
    return [row for row in rows if row["show_until"] is None or row["show_until"] > now]


def banners_for(user, memberships=None, language: str = "en") -> list[dict]:
    """The announcements to show `user` now: live, in their audience, not dismissed."""
    live = live_announcements()
    if not live:
        return []
    with user_context(user) if _outside_user_block() else _nothing():
        dismissed = set(
            AnnouncementDismissal.objects.filter(user=user, announcement_id__in=[a["pk"] for a in live]).values_list(
                "announcement_id", flat=True
            )
        )
        live = [a for a in live if a["pk"] not in dismissed]
        if not live:
            return []
        if memberships is None:
            memberships = Membership.objects.filter(user=user, organization__is_active=True)
        rows = [(m.organization_id, m.role) for m in memberships]
        marketing = None
        shown = []
        for announcement in live:
            if not _membership_matches(announcement, rows):
                continue
            if announcement["kind"] == Announcement.Kind.MARKETING:
                if marketing is None:
                    marketing = consenting_to_marketing([user.pk]).exists()
                if not marketing:
                    continue
            ro = language == "ro"
            shown.append(
                {
                    "pk": announcement["pk"],
                    "kind": announcement["kind"],
                    "title": announcement["title_ro"] if ro else announcement["title_en"],
                    "body": announcement["body_ro"] if ro else announcement["body_en"],
                }
            )
    return shown


def _outside_user_block() -> bool:
    from logicnet.tenancy.context import acting_user_id

    return acting_user_id() is None


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def dismiss_announcement(*, user, announcement_id: int) -> bool:
    """Record that the user closed the banner (idempotent)."""
    if not Announcement.objects.filter(pk=announcement_id, published_at__isnull=False).exists():
        return False
    with user_context(user):
        try:
            with transaction.atomic():
                AnnouncementDismissal.objects.get_or_create(user=user, announcement_id=announcement_id)
        except IntegrityError:
            pass  # dismissed at the same moment in another tab
    return True


# --- consent to product news ------------------------------------------------------------------------


def wants_product_news(user) -> bool:
    with user_context(user):
        newest = MarketingConsent.objects.filter(user=user).order_by("-recorded_at", "-pk").first()
    return bool(newest and newest.given) and user.may_receive_marketing


def set_product_news(*, user, given: bool, method: str, ip_address: str | None = None) -> MarketingConsent:
    with user_context(user):
        record = MarketingConsent.objects.create(user=user, given=given, method=method)
        record_event(
            action="marketing_consent.given" if given else "marketing_consent.withdrawn",
            actor=user,
            target=user,
            ip_address=ip_address,
            details={"kind": method},
        )
    return record


def unsubscribe_token(user) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def user_for_unsubscribe_token(token: str):
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=data.get("u")).first()


def unsubscribe_url(user) -> str:
    return settings.SITE_URL + reverse("product_news_unsubscribe", kwargs={"token": unsubscribe_token(user)})


# --- the mail -----------------------------------------------------------------------------------------


def send_announcement_mail(*, announcement_id: int, batch_size: int = MAIL_BATCH) -> dict:
    """Mail the announcement to its audience; returns the counts by status. Resumable and
    idempotent: the recipients are written once (a delivery row each), then pending rows are
    mailed a batch at a time under FOR UPDATE SKIP LOCKED (two workers split the batches),
    each row's status written as its mail goes. Runs on the platform role (the worker)."""
    with platform_bypass(actor=None, reason=f"announcement {announcement_id}: mail"):
        announcement = Announcement.objects.select_for_update().filter(pk=announcement_id).first()
        if announcement is None or announcement.published_at is None or not announcement.send_email:
            return {}
        if announcement.mail_started_at is None:
            ids = audience_user_ids(announcement)
            AnnouncementDelivery.objects.bulk_create(
                [AnnouncementDelivery(announcement=announcement, user_id=pk) for pk in ids],
                ignore_conflicts=True,
                batch_size=1000,
            )
            announcement.mail_started_at = timezone.now()
            announcement.mail_total = AnnouncementDelivery.objects.filter(announcement=announcement).count()
            announcement.save(update_fields=["mail_started_at", "mail_total"])
    while True:
        with platform_bypass(actor=None, reason=f"announcement {announcement_id}: mail batch"):
            batch = list(
                AnnouncementDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(announcement_id=announcement_id, status=AnnouncementDelivery.Status.PENDING)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            with get_connection() as connection:
                for delivery in batch:
                    _mail_one(announcement, delivery, connection)
    with platform_bypass(actor=None, reason=f"announcement {announcement_id}: mail finished"):
        counts = mail_counts(announcement_id)
        if not counts.get(AnnouncementDelivery.Status.PENDING):
            Announcement.objects.filter(pk=announcement_id, mail_finished_at__isnull=True).update(
                mail_finished_at=timezone.now()
            )
    return counts


def mail_counts(announcement_id: int) -> dict[str, int]:
    from django.db.models import Count

    rows = (
        AnnouncementDelivery.objects.filter(announcement_id=announcement_id)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


def _mail_one(announcement: Announcement, delivery: AnnouncementDelivery, connection) -> None:
    user = delivery.user
    delivery.attempted_at = timezone.now()
    marketing = announcement.kind == Announcement.Kind.MARKETING
    if not user.is_active or (marketing and not consenting_to_marketing([user.pk]).exists()):
        # Withdrew (or left) between the audience and the batch: nothing is sent.
        delivery.status, delivery.error = AnnouncementDelivery.Status.FAILED, "no longer in the audience"
        delivery.save(update_fields=["status", "error", "attempted_at"])
        return
    language = user.language if user.language in ("en", "ro") else "en"
    headers = {}
    context = {
        "user": user,
        "title": announcement.title(language),
        "body": announcement.body(language),
        "marketing": marketing,
        "site": settings.SITE_URL,
    }
    if marketing:
        url = unsubscribe_url(user)
        context["unsubscribe_url"] = url
        # RFC 2369 and RFC 8058: the mail client's own unsubscribe button POSTs here.
        headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with translation.override(language):
        message = EmailMultiAlternatives(
            f"[Logicnet CRM] {context['title']}",
            render_to_string("announcements/email/announcement.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
            headers=headers,
            connection=connection,
        )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        delivery.status, delivery.error = AnnouncementDelivery.Status.FAILED, type(exc).__name__
        log.warning("announcement %s: delivery %s failed (%s)", announcement.pk, delivery.pk, type(exc).__name__)
    else:
        delivery.status, delivery.error = AnnouncementDelivery.Status.SENT, ""
    delivery.save(update_fields=["status", "error", "attempted_at"])


def unfinished_mailings() -> list[int]:
    return list(
        Announcement.objects.filter(
            published_at__isnull=False, send_email=True, mail_finished_at__isnull=True
        ).values_list("pk", flat=True)
    )
