"""Organization URLs of the exports (mounted under /o/<org_slug>/)."""

from exports.views import urlpatterns

__all__ = ["urlpatterns"]
