from django.apps import AppConfig


class WardenSyncConfig(AppConfig):
    name = "warden_sync"
    label = "warden_sync"
    verbose_name = "Warden sync"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        # Connects the receivers (m2m_changed, state_changed, pre/post_save, pre_delete).
        from . import signals  # noqa: F401
