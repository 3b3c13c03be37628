"""Both services installed at once: warden_sync's system check must refuse this."""

from .local import *  # noqa: F401,F403
from .local import INSTALLED_APPS

INSTALLED_APPS = INSTALLED_APPS + ["allianceauth.services.modules.discord"]
DISCORD_GUILD_ID = "1"
DISCORD_BOT_TOKEN = "not-used"
