"""A small client for Warden's admin API (SPEC 3.3), on `requests`.

Every request carries `Authorization: Bearer <admin token>`, a (connect, read) timeout, and is
retried by urllib3 on connection errors and on 502/503/504 (with backoff). What is left after those
retries is raised as WardenUnavailable (try again later: Celery does) or WardenRejected (Warden
answered 4xx: the request itself is wrong; retrying the same request cannot help).

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
    """One client per process is enough; it keeps a connection pool."""

    def __init__(self, base_url=None, token=None, timeout=None, retries=None, verify=None):
        self.base_url = (base_url or app_settings.WARDEN_URL).rstrip("/")
        self.timeout = timeout or app_settings.WARDEN_TIMEOUT
        self.verify = app_settings.WARDEN_VERIFY_TLS if verify is None else verify
        retry = Retry(
            total=app_settings.WARDEN_HTTP_RETRIES if retries is None else retries,
            connect=None,
            read=None,
            backoff_factor=1.0,  # 0 s, 2 s, 4 s, ... between attempts
            status_forcelist=(502, 503, 504),
            # Every call below is safe to repeat: PUT and DELETE are idempotent, a second
            # activation link only replaces the first, a task run twice finds nothing left to do.
            allowed_methods=frozenset({"GET", "PUT", "DELETE", "POST"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.headers["Authorization"] = "Bearer " + (token or app_settings.admin_token())
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "warden-sync (Alliance Auth)"

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
        """GET /api/users/{id}: the record, its Discord link and its enforcement state."""
        return self._request("GET", f"/api/users/{int(user_id)}")

    def delete_user(self, user_id):
        """DELETE /api/users/{id}: the user was deleted in Auth (kick, unlink, forget).

        A 404 (Warden never knew the user) counts as done."""
        try:
            self._request("DELETE", f"/api/users/{int(user_id)}")
        except WardenRejected as error:
            if error.status != 404:
                raise

    def activation_link(self, user_id):
        """POST /api/users/{id}/discord/activation-link: {"url", "expires_at"}."""
        return self._request("POST", f"/api/users/{int(user_id)}/discord/activation-link")

    def deactivate(self, user_id):
        """DELETE /api/users/{id}/discord: kick and unlink, keep the Auth record."""
        return self._request("DELETE", f"/api/users/{int(user_id)}/discord")

    def put_reserved_group_names(self, names):
        """PUT /api/reserved-group-names: Auth's whole list of reserved group names."""
        return self._request("PUT", "/api/reserved-group-names", json=sorted(set(names)))

    def run_task(self, name, user_id=None):
        """POST /api/tasks/{name}, e.g. "discord.update_all_groups"; returns {"id": ...}."""
        body = {} if user_id is None else {"user_id": int(user_id)}
        return self._request("POST", f"/api/tasks/{quote(name, safe='')}", json=body)

    def task(self, task_id):
        """GET /api/tasks/{id}: state and progress of a task."""
        return self._request("GET", f"/api/tasks/{quote(str(task_id), safe='')}")

    def status(self):
        """GET /api/status."""
        return self._request("GET", "/api/status")

    # -- plumbing --------------------------------------------------------------------------------

    def _request(self, method, path, json=None):
        url = self.base_url + path
        try:
            response = self.session.request(
                method, url, json=json, timeout=self.timeout, verify=self.verify
            )
        except requests.RequestException as error:
            # The exception text can hold the URL but never the headers.
            raise WardenUnavailable(f"{method} {path}: {type(error).__name__}: {error}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise WardenUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise WardenRejected(method, path, response.status_code, _error_text(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise WardenUnavailable(f"{method} {path}: answer is not JSON") from None


def _error_text(response):
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return str(body)[:200]


_client = None


def get_client():
    """The process-wide client, made on first use (so settings are read after Django starts)."""
    global _client
    if _client is None:
        _client = WardenClient()
    return _client
