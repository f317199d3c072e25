"""Organization URLs of imports (mounted under /o/<org_slug>/)."""

from imports.views import urlpatterns

__all__ = ["urlpatterns"]
