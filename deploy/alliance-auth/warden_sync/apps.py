from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WardenSyncConfig(AppConfig):
    name = "warden_sync"
    label = "warden_sync"
    verbose_name = _("Warden")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        # The receivers (m2m_changed, state_changed, pre/post_save, pre_delete) and the system check
        # that refuses Alliance Auth's own Discord service beside this app.
        from . import checks, signals  # noqa: F401
