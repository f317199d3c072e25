"""Organization URLs of interactions, tasks and the timelines (mounted under /o/<org_slug>/)."""

from activity.views import urlpatterns

__all__ = ["urlpatterns"]
