from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnouncementsConfig(AppConfig):
    name = "announcements"
    verbose_name = _("Announcements")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from announcements.security import close_announcement_tables

        # After logicnet's own post_migrate grants the application role every table: staff
        # write announcements in the admin process; the web role only reads them.
        post_migrate.connect(close_announcement_tables, sender=self, dispatch_uid="announcements-platform-tables")
