from django.conf import settings
from django.db import models
from django_scopes import ScopedManager


def organization_field(*, db_index: bool = True) -> models.ForeignKey:
    """TenantModel's organization foreign key. `db_index=False` for a model whose other
    indexes all start with the organization: any of them serves a lookup by organization
    (the row-level security predicate, a cascade from the organization, the foreign key's
    own check when one is deleted), and a bulk write maintains one index fewer per row.
    The tenancy tests check that every tenant table keeps an index led by its organization."""
    return models.ForeignKey(
        settings.TENANCY_ORGANIZATION_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        db_index=db_index,
    )


class TenantModel(models.Model):
    """Base of every tenant-owned model: non-null organization, scoped default manager.

    Row-level security for the table is created by `sync_database_security` after every
    migrate, for every model with an `organization` foreign key (this base or not).
    Declare uniqueness per tenant: UniqueConstraint(fields=["organization", ...]).
    """

    organization = organization_field()

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True
