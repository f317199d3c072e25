"""Background work of the accounts app (thin adapters over services: ids in, never personal data)."""

from celery import shared_task

from accounts.exports import delete_expired_exports


@shared_task(name="accounts.delete_expired_exports")
def sweep_expired_exports() -> int:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): export files past their retention go."""
    return delete_expired_exports()


@shared_task(name="accounts.build_account_package")
def build_account_package(user_id: int, package_id: int) -> dict:
    """Download my data: build, seal and mail the link (accounts/account_rights.py)."""
    from accounts.account_rights import build_data_package

    return build_data_package(user_id=user_id, package_id=package_id)


@shared_task(name="accounts.erase_account")
def erase_account(user_id: int) -> dict:
    """Delete my account, after the user confirmed it (accounts/account_rights.py)."""
    from accounts.account_rights import erase_account as erase

    return erase(user_id=user_id)


@shared_task(name="accounts.sweep_account_privacy")
def sweep_account_privacy() -> dict:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): account packages past 30 days go, and
    account erasures a crashed worker left unfinished are queued again."""
    from accounts.account_rights import delete_expired_packages, resume_account_deletions

    return {"packages_deleted": delete_expired_packages(), "deletions_resumed": resume_account_deletions()}
