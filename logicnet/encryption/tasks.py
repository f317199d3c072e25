"""Thin Celery adapters for key management: ids in, services do the work."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="encryption.reencrypt_organization", acks_late=True, reject_on_worker_lost=True, max_retries=5)
def reencrypt_organization_task(organization_id: int) -> bool:
    """Re-encrypt one organization under its newest data key (queued when a key reaches
    ENCRYPTION_KEY_ROTATE_AFTER encryptions). Resumable: a rerun carries on where it stopped."""
    from logicnet.encryption.reencryption import reencrypt_organization
    from logicnet.tenancy.organizations import organization_model

    organization = organization_model().objects.filter(pk=organization_id).first()
    if organization is None:
        return False
    return reencrypt_organization(organization, report=logger.info)["finished"]


@shared_task(name="encryption.destroy_retired_keys")
def destroy_retired_keys_task() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): destroy retired data keys past their grace period."""
    from logicnet.encryption.retirement import destroy_retired_keys

    return len(destroy_retired_keys(report=logger.info)["destroyed"])
