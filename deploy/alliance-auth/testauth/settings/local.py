"""warden_sync installed as the install guide says (README.md, "Install")."""

from .base import *  # noqa: F401,F403
import os

from .base import INSTALLED_APPS

INSTALLED_APPS = INSTALLED_APPS + ["warden_sync"]

WARDEN_URL = os.environ.get("WARDEN_URL", "http://127.0.0.1:9")  # the tests point it at their mock Warden
WARDEN_ADMIN_TOKEN = "warden-sync-test-admin-token-0123456789"
WARDEN_PAGE_TIMEOUT = (2, 5)
WARDEN_TIMEOUT = (2, 5)
WARDEN_HTTP_RETRIES = 0
