"""A system check: Alliance Auth's own Discord service and warden_sync must not run together.

Both would write the same guild: one group change made Alliance Auth PATCH the role, Warden remove it
(from the old record), then add it back when the push arrived: a visible flap and two extra writes.
An Error stops `runserver`, `migrate` and every other management command until it is fixed.
"""

from django.apps import apps
from django.core.checks import Error, register

from .app_settings import OLD_DISCORD_APP


@register()
def old_discord_service_not_installed(app_configs=None, **kwargs):
    if not apps.is_installed(OLD_DISCORD_APP):
        return []
    return [
        Error(
            "Alliance Auth's Discord service and warden_sync are both installed: both would write the "
            "same Discord guild and fight over its roles.",
            hint=f"Remove '{OLD_DISCORD_APP}' from INSTALLED_APPS (keep its tables), then run "
                 "`python manage.py warden_migrate_from_discord` to move its links to Warden.",
            id="warden_sync.E001",
        )
    ]
