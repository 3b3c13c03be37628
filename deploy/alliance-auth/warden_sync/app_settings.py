"""Settings of warden_sync, read from Django's settings (local.py), with their defaults.

WARDEN_URL                 Warden's address as Auth reaches it, e.g. "http://127.0.0.1:8080"
                           (the admin API is under /api; keep it off the public internet).
WARDEN_ADMIN_TOKEN         The bearer token: Warden's http.admin_token. Or:
WARDEN_ADMIN_TOKEN_FILE    a file holding it (read once, trailing newline removed).
WARDEN_TIMEOUT             (connect, read) seconds for one HTTP request. Default (3.05, 15).
WARDEN_HTTP_RETRIES        Retries of one request on a connection error or a 502/503/504. Default 3.
WARDEN_TASK_MAX_RETRIES    Celery retries of a push after that (Warden down). Default 10.
WARDEN_VERIFY_TLS          True, False or a CA bundle path (requests' `verify`). Default True.
WARDEN_ACCESS_PERMISSION   The permission that is `can_access_discord`. Default
                           "discord.access_discord" (Alliance Auth's "Can access the Discord service").
WARDEN_SYNC_ENABLED        False stops every push (a kill switch). Default True.
WARDEN_SYNC_ASYNC          True: pushes run as Celery tasks after the transaction commits.
                           False: they run inline after commit (development only). Default True.
WARDEN_BATCH_SIZE          Records per PUT /api/users request. Default 500.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _get(name, default):
    return getattr(settings, name, default)


WARDEN_URL = str(_get("WARDEN_URL", "http://127.0.0.1:8080")).rstrip("/")
WARDEN_TIMEOUT = tuple(_get("WARDEN_TIMEOUT", (3.05, 15)))
WARDEN_HTTP_RETRIES = int(_get("WARDEN_HTTP_RETRIES", 3))
WARDEN_TASK_MAX_RETRIES = int(_get("WARDEN_TASK_MAX_RETRIES", 10))
WARDEN_VERIFY_TLS = _get("WARDEN_VERIFY_TLS", True)
WARDEN_ACCESS_PERMISSION = str(_get("WARDEN_ACCESS_PERMISSION", "discord.access_discord"))
WARDEN_SYNC_ENABLED = bool(_get("WARDEN_SYNC_ENABLED", True))
WARDEN_SYNC_ASYNC = bool(_get("WARDEN_SYNC_ASYNC", True))
WARDEN_BATCH_SIZE = max(1, int(_get("WARDEN_BATCH_SIZE", 500)))


def admin_token():
    """The admin token from WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE (exactly one of them)."""
    inline = _get("WARDEN_ADMIN_TOKEN", None)
    path = _get("WARDEN_ADMIN_TOKEN_FILE", None)
    if inline and path:
        raise ImproperlyConfigured("set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, not both")
    if path:
        with open(path, encoding="utf-8") as handle:
            inline = handle.read().rstrip("\r\n")
    if not inline:
        raise ImproperlyConfigured("WARDEN_ADMIN_TOKEN (or WARDEN_ADMIN_TOKEN_FILE) is not set")
    return inline
