"""Settings of warden_sync, read from Django's settings (local.py), with their defaults.

WARDEN_URL                 Warden's address as Auth reaches it, e.g. "http://127.0.0.1:8080"
                           (the admin API is under /api; keep it off the public internet).
WARDEN_ADMIN_TOKEN         The bearer token: Warden's http.admin_token. Or:
WARDEN_ADMIN_TOKEN_FILE    a file holding it (read once, trailing newline removed).
WARDEN_TIMEOUT             (connect, read) seconds of one request made by a Celery worker. Default (3.05, 15).
WARDEN_PAGE_TIMEOUT        (connect, read) seconds of one request made while a page renders or a
                           button is handled (the user waits for it). Default (2, 5).
WARDEN_HTTP_RETRIES        Retries of one request inside a Celery worker on a connection error or
                           a 502/503/504. Default 2. Never used in a web request.
WARDEN_VERIFY_TLS          True, False or a CA bundle path (requests' `verify`). Default True.
WARDEN_SYNC_ENABLED        False stops every push (a kill switch). Default True.
WARDEN_BATCH_SIZE          Records per PUT /api/users request. Default 500.
WARDEN_RETRY_MAX_DELAY     Longest wait in seconds between two tries while Warden is down. Default 600.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ACCESS_PERMISSION = "warden_sync.access_discord"  # SPEC 8 (contract)
OLD_DISCORD_APP = "allianceauth.services.modules.discord"


def _get(name, default):
    return getattr(settings, name, default)


def warden_url():
    return str(_get("WARDEN_URL", "http://127.0.0.1:8080")).rstrip("/")


def timeout():
    return tuple(_get("WARDEN_TIMEOUT", (3.05, 15)))


def page_timeout():
    return tuple(_get("WARDEN_PAGE_TIMEOUT", (2, 5)))


def http_retries():
    return max(0, int(_get("WARDEN_HTTP_RETRIES", 2)))


def verify_tls():
    return _get("WARDEN_VERIFY_TLS", True)


def sync_enabled():
    return bool(_get("WARDEN_SYNC_ENABLED", True))


def batch_size():
    return max(1, int(_get("WARDEN_BATCH_SIZE", 500)))


def retry_max_delay():
    return max(1, int(_get("WARDEN_RETRY_MAX_DELAY", 600)))


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
