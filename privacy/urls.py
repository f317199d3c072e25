"""The privacy desk's URLs, mounted at /o/<org_slug>/privacy/ (logicnet/urls.py)."""

from privacy.views_desk import urlpatterns

__all__ = ["urlpatterns"]
