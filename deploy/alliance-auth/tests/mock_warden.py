"""Warden's admin API mocked at the HTTP level: a small threaded HTTP server on 127.0.0.1 that keeps
records and links like Warden does (SPEC 3.3) and records every request, so tests assert what
went over the wire. It refuses what the hardened daemon refuses: a wrong token (401), a record with a
key the contract does not define (400 naming it), one Discord account on two users (400 `discord`).
`stop()` makes it unreachable (connection refused) and `start()` brings it back on the same port.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "warden-sync-test-admin-token-0123456789"
RECORD_KEYS = {"id", "username", "active", "state", "groups", "can_access_discord", "main_character", "discord"}


class Request:
    def __init__(self, method, path, body):
        self.method, self.path, self.body = method, path, body

    def __repr__(self):
        return f"{self.method} {self.path}"


class MockWarden:
    def __init__(self):
        self.lock = threading.Lock()
        self.server = None
        self.port = 0
        self.clear()

    def clear(self):
        """Forgets everything but the server: users, links, guilds, status, alerts, requests."""
        self.requests = []
        self.users = {}          # id -> record
        self.links = {}          # id -> uid (str)
        self.reserved = []
        self.guilds = None       # None: a one-guild Warden (no `guilds` field); else [{"id","label"}]
        self.memberships = {}    # (user id, guild id) -> bool, with guilds
        self.activation_links = 0
        self.corrections = None  # None: GET /api/corrections answers 404 (a Warden without SPEC 9)
        self.status = {
            "gateway": {"state": "connected", "session": True, "latency_ms": 42, "last_event_at": "2027-01-15T08:00:00Z"},
            "cache": {"roles": 8, "members": 120, "complete": True},
            "bot": {"top": True, "highest_role": "555", "missing_permissions": []},
            "linked_users": 0, "pending_writes": 0, "skipped": [], "observed": [], "alerts": [],
        }
        self.alerts = {"open": [], "recent": []}

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, body=None):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.strip() else None
                with mock.lock:
                    mock.requests.append(Request(self.command, self.path, body))
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        return self._answer(401, {"error": "authorization: a valid token is required"})
                    status, answer = mock.route(self.command, self.path, body)
                self._answer(status, answer)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def reset(self):
        with self.lock:
            self.requests.clear()

    def calls(self, method=None, prefix="/api/"):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and r.path.startswith(prefix)]

    def pushed_records(self):
        """Every record sent, in order, from PUT /api/users/{id} and PUT /api/users."""
        records = []
        for r in self.calls("PUT", "/api/users"):
            records += r.body if isinstance(r.body, list) else [r.body]
        return records

    def last_record(self, user_id):
        found = [r for r in self.pushed_records() if r["id"] == user_id]
        return found[-1] if found else None

    # -- the API ------------------------------------------------------------------------------------

    def _check(self, record, index=None):
        prefix = f"record {index}: " if index is not None else ""
        for key in record:
            if key not in RECORD_KEYS:
                return f"{prefix}{key}: not a field of a user record"
        discord = record.get("discord")
        if discord is not None:
            uid = str(discord.get("uid"))
            for other, linked in self.links.items():
                if linked == uid and other != record["id"]:
                    return f"{prefix}discord: Discord account {uid} is already linked to Auth user {other}"
        return None

    def _store(self, record):
        record = dict(record)
        discord = record.pop("discord", None)
        self.users[record["id"]] = record
        if discord is not None:
            self.links[record["id"]] = str(discord["uid"])
            if self.guilds:
                for guild in self.guilds:
                    self.memberships[(record["id"], guild["id"])] = True

    def route(self, method, path, body):
        m = re.fullmatch(r"/api/users/(\d+)", path)
        if m and method == "PUT":
            error = self._check(body)
            if error:
                return 400, {"error": error}
            self._store(body)
            return 200, body
        if path == "/api/users" and method == "PUT":
            for index, record in enumerate(body):
                error = self._check(record, index)
                if error:
                    return 400, {"error": error + "; nothing was stored"}
            for record in body:
                self._store(record)
            return 200, {"upserted": len(body)}
        if m and method == "GET":
            user_id = int(m.group(1))
            if user_id not in self.users:
                return 404, {"error": f"no Auth user with id {user_id}"}
            uid = self.links.get(user_id)
            answer = {"user": self.users[user_id],
                      "discord": None if uid is None else {
                          "uid": uid, "username": f"user{uid[-4:]}", "discriminator": "0",
                          "global_name": None, "display": f"@user{uid[-4:]}", "activated": "2027-01-15T08:00:00Z"},
                      "enforcement": {"state": "ok", "reason": None, "at": None}}
            if self.guilds is not None:
                record = self.users[user_id]
                answer["guilds"] = [{
                    "id": g["id"], "label": g["label"],
                    "access": bool(record.get("can_access_discord")) and g.get("access", True),
                    "member": uid is not None and self.memberships.get((user_id, g["id"]), False),
                    "enforcement": {"state": "ok", "reason": None, "at": None}} for g in self.guilds]
            return 200, answer
        if m and method == "DELETE":
            user_id = int(m.group(1))
            if user_id not in self.users:
                return 404, {"error": f"no Auth user with id {user_id}"}
            self.users.pop(user_id)
            self.links.pop(user_id, None)
            return 204, None
        m = re.fullmatch(r"/api/users/(\d+)/discord/activation-link", path)
        if m and method == "POST":
            user_id = int(m.group(1))
            if user_id not in self.users:
                return 404, {"error": f"no Auth user with id {user_id}"}
            self.activation_links += 1
            guild = (body or {}).get("guild_id")
            suffix = f"&guild={guild}" if guild else ""
            return 200, {"url": f"{self.url}/discord/activate?token=t{self.activation_links}-{user_id}{suffix}",
                         "expires_at": "2027-01-15T08:15:00Z"}
        m = re.fullmatch(r"/api/users/(\d+)/discord", path)
        if m and method == "DELETE":
            user_id = int(m.group(1))
            if user_id not in self.users:
                return 404, {"error": f"no Auth user with id {user_id}"}
            self.links.pop(user_id, None)
            self.memberships = {k: v for k, v in self.memberships.items() if k[0] != user_id}
            return 204, None
        if path == "/api/reserved-group-names" and method == "PUT":
            self.reserved = list(body)
            return 200, self.reserved
        if path == "/api/status" and method == "GET":
            return 200, dict(self.status, linked_users=len(self.links), alerts=self.alerts["open"])
        if path == "/api/alerts" and method == "GET":
            return 200, self.alerts
        if path.startswith("/api/corrections") and method == "GET":
            if self.corrections is None:
                return 404, {"error": "no route"}
            return 200, self.corrections
        m = re.fullmatch(r"/api/tasks/([\w.]+)", path)
        if m and method == "POST":
            return 202, {"id": 1}
        return 404, {"error": "no route"}
