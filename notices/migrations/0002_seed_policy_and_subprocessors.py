"""Version 1 of the privacy policy is the policy already published (the template pair
accounts/privacy_policy_{en,ro}.html); account holders who accepted it at sign-up get their
acceptance recorded against it. The sub-processor list starts from the sub-processors the
personal-data registry declares (logicnet/personal_data/policy.py)."""

import datetime
import hashlib
from pathlib import Path

from django.conf import settings
from django.db import migrations
from django.utils import timezone, translation

TEMPLATE = "accounts/privacy_policy_{language}.html"


def _template_hash() -> str:
    from django.template.loader import get_template

    digest = hashlib.sha256()
    for language in ("en", "ro"):
        digest.update(Path(get_template(TEMPLATE.format(language=language)).origin.name).read_bytes())
    return digest.hexdigest()


def _published_at():
    try:
        day = datetime.date.fromisoformat(settings.PRIVACY_POLICY_VERSION)
    except ValueError:
        return timezone.now()
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def seed(apps, schema_editor):
    from logicnet.personal_data.registry import registry

    PolicyVersion = apps.get_model("notices", "PolicyVersion")
    PolicyAcceptance = apps.get_model("notices", "PolicyAcceptance")
    SubProcessor = apps.get_model("notices", "SubProcessor")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    now = timezone.now()
    version = PolicyVersion.objects.create(
        number=1,
        published_at=_published_at(),
        template=TEMPLATE,
        changes_en="The first published version.",
        changes_ro="Prima versiune publicată.",
        content_hash=_template_hash(),
        notices_finished_at=now,  # nobody is told about the policy they signed up under
    )
    accepted = User.objects.exclude(privacy_policy_version="").exclude(privacy_policy_accepted_at=None)
    PolicyAcceptance.objects.bulk_create(
        PolicyAcceptance(user_id=pk, version=version, accepted_at=at)
        for pk, at in accepted.values_list("pk", "privacy_policy_accepted_at")
    )
    accepted.update(privacy_policy_version="1")
    with translation.override("en"):
        SubProcessor.objects.bulk_create(
            SubProcessor(
                key=sub.key,
                name=str(sub.name),
                service=str(sub.service),
                location=str(sub.location),
                in_eea=sub.in_eea,
                listed_since=now,
            )
            for sub in registry.sub_processors.values()
        )


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
