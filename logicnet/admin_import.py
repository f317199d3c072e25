"""django-import-export in the admin, writing through the services.

A resource built on `ServiceModelResource` never saves a row itself: each imported row goes
to `save_through_service(instance, actor=...)`, the same service the pages call (so it is
validated, audited and its side effects run), and a row naming no existing object is refused
unless the resource allows creation. Admins pass the acting administrator with
`ServiceImportMixin`. The billing app's plans use the same base."""

from __future__ import annotations

from import_export import resources


class ServiceModelResource(resources.ModelResource):
    allow_create = False

    def __init__(self, *, actor=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.actor = actor

    def before_import_row(self, row, **kwargs) -> None:
        if not self.allow_create:
            key = row.get("id")
            if not key or not self._meta.model._default_manager.filter(pk=key).exists():
                raise ValueError("only existing rows can be imported here (give their id)")
        super().before_import_row(row, **kwargs)

    def do_instance_save(self, instance, is_create) -> None:
        if self.actor is None:
            raise PermissionError("an import writes through a service, which needs the acting administrator")
        self.save_through_service(instance, is_create=is_create, actor=self.actor)

    def save_through_service(self, instance, *, is_create: bool, actor) -> None:
        raise NotImplementedError


class ServiceImportMixin:
    """For an ImportExportModelAdmin whose resource is a ServiceModelResource."""

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "actor": request.user}
