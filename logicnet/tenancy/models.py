from django.conf import settings
from django.db import models
from django_scopes import ScopedManager


class TenantModel(models.Model):
    """Base of every tenant-owned model: non-null organization, scoped default manager.

    Row-level security for the table is created by `sync_database_security` after every
    migrate, for every model with an `organization` foreign key (this base or not).
    Declare uniqueness per tenant: UniqueConstraint(fields=["organization", ...]).
    """

    organization = models.ForeignKey(
        settings.TENANCY_ORGANIZATION_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True
