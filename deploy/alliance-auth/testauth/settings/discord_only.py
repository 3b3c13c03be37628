"""An Alliance Auth site with its own Discord service and without warden_sync: the starting point
of a migration (tests/test_migrated_install.py)."""

from .base import *  # noqa: F401,F403
from .base import INSTALLED_APPS

INSTALLED_APPS = INSTALLED_APPS + ["allianceauth.services.modules.discord"]
DISCORD_GUILD_ID = "1"
DISCORD_BOT_TOKEN = "not-used"
