"""Organization URLs of the CRM (mounted under /o/<org_slug>/). Each view module keeps
its own `urlpatterns`, so the topics grow without touching one shared list."""

import importlib

VIEW_MODULES = ["contacts", "lists", "companies", "activity"]

urlpatterns = []
for _name in VIEW_MODULES:
    try:
        _module = importlib.import_module(f"contacts.views.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"contacts.views.{_name}":
            raise
        continue
    urlpatterns += _module.urlpatterns
