"""A small client for Warden's admin API (SPEC 3.3), on `requests`.

Every request carries `Authorization: Bearer <admin token>` and a (connect, read) timeout. Two kinds:
`worker_client()` for Celery workers and management commands (urllib3 retries on connection errors
and 502/503/504), `page_client()` for a web request a user waits for (short timeout, no retry: a
push that fails there stays in the outbox, see outbox.py). What is left after those retries is raised
as WardenUnavailable (try again later) or WardenRejected (Warden answered 4xx).

The token never appears in an exception or a log line written here.
"""

import logging
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import app_settings

logger = logging.getLogger(__name__)


class WardenError(Exception):
    """Base class of the errors below."""


class WardenUnavailable(WardenError):
    """Warden could not be reached or answered 5xx / 429: try again later."""


class WardenRejected(WardenError):
    """Warden answered 4xx; `status` and `error` (Warden's {"error": ...} text) say why."""

    def __init__(self, method, path, status, error):
        super().__init__(f"{method} {path}: HTTP {status}: {error}")
        self.status = status
        self.error = error


class WardenClient:
    def __init__(self, base_url=None, token=None, timeout=None, retries=0, verify=None):
        self.base_url = (base_url or app_settings.warden_url()).rstrip("/")
        self.timeout = tuple(timeout or app_settings.timeout())
        self.verify = app_settings.verify_tls() if verify is None else verify
        retry = Retry(
            total=retries,
            backoff_factor=0.5,  # 0 s, 1 s, 2 s, ... between attempts
            status_forcelist=(502, 503, 504),
            # Every call below is safe to repeat: PUT and DELETE are idempotent, a second activation
            # link only adds a link nobody opens, a task run twice finds nothing left to do.
            allowed_methods=frozenset({"GET", "PUT", "DELETE", "POST"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.headers["Authorization"] = "Bearer " + (token or app_settings.admin_token())
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "aa-warden-sync"

    def __repr__(self):
        return f"WardenClient({self.base_url!r})"  # never the token

    # -- the admin API ---------------------------------------------------------------------------

    def put_user(self, record):
        """PUT /api/users/{id}: upsert one record (SPEC 1.1); Warden enforces that user at once."""
        return self._request("PUT", f"/api/users/{int(record['id'])}", json=record)

    def put_users(self, records):
        """PUT /api/users: upsert many records in one transaction; returns {"upserted": n}."""
        return self._request("PUT", "/api/users", json=list(records))

    def get_user(self, user_id):
        """GET /api/users/{id}: the record, its Discord link, its enforcement state (and, with
        several guilds, `guilds`). None when Warden does not know the user."""
        try:
            return self._request("GET", f"/api/users/{int(user_id)}")
        except WardenRejected as error:
            if error.status == 404:
                return None
            raise

    def delete_user(self, user_id):
        """DELETE /api/users/{id}: the user was deleted in Auth. A user Warden never knew is fine."""
        try:
            return self._request("DELETE", f"/api/users/{int(user_id)}")
        except WardenRejected as error:
            if error.status == 404:
                return None
            raise

    def activation_link(self, user_id, guild_id=None):
        """POST /api/users/{id}/discord/activation-link: {"url": ..., "expires_at": ...}. The link
        is short-lived and single-use (SPEC 1.9): ask for it when the user clicks, never keep it."""
        body = None if guild_id is None else {"guild_id": str(guild_id)}
        return self._request("POST", f"/api/users/{int(user_id)}/discord/activation-link", json=body)

    def deactivate(self, user_id):
        """DELETE /api/users/{id}/discord: kick from every guild and unlink; the Auth record stays."""
        try:
            return self._request("DELETE", f"/api/users/{int(user_id)}/discord")
        except WardenRejected as error:
            if error.status == 404:  # Warden never knew the user: nothing is linked
                return None
            raise

    def put_reserved_group_names(self, names):
        """PUT /api/reserved-group-names: Auth's whole list of reserved group names."""
        return self._request("PUT", "/api/reserved-group-names", json=sorted(set(names)))

    def run_task(self, name, user_id=None):
        """POST /api/tasks/{name}, e.g. "discord.update_all_groups"; returns {"id": ...}."""
        body = {} if user_id is None else {"user_id": int(user_id)}
        return self._request("POST", f"/api/tasks/{quote(name, safe='')}", json=body)

    def status(self):
        """GET /api/status."""
        return self._request("GET", "/api/status")

    def alerts(self):
        """GET /api/alerts: {"open": [...], "recent": [...]}."""
        return self._request("GET", "/api/alerts")

    def corrections(self, since=None):
        """GET /api/corrections (SPEC 9), newest first. None when this Warden has no such route."""
        path = "/api/corrections"
        if since:
            path += "?since=" + quote(since, safe="")
        try:
            return self._request("GET", path)
        except WardenRejected as error:
            if error.status in (404, 405):
                return None
            raise

    # -- plumbing --------------------------------------------------------------------------------

    def _request(self, method, path, json=None):
        url = self.base_url + path
        try:
            response = self.session.request(method, url, json=json, timeout=self.timeout, verify=self.verify)
        except requests.RequestException as error:
            # The exception text can hold the URL but never the headers.
            raise WardenUnavailable(f"{method} {path}: {type(error).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise WardenUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise WardenRejected(method, path, response.status_code, _error_text(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise WardenUnavailable(f"{method} {path}: the answer is not JSON") from None


def _error_text(response):
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return str(body)[:200]


def worker_client():
    """For Celery workers and management commands: the configured timeout and retries."""
    return WardenClient(timeout=app_settings.timeout(), retries=app_settings.http_retries())


def page_client():
    """For a web request a user waits for: a short timeout and no retry."""
    return WardenClient(timeout=app_settings.page_timeout(), retries=0)
