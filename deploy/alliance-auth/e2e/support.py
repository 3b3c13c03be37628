"""Chromium, the Warden processes and the Alliance Auth side of the end-to-end tests."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import unittest

from django.contrib.auth.models import User
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import Client, override_settings

from allianceauth.authentication.models import Permission, State
from allianceauth.eveonline.models import EveCharacter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
WARDEN = os.environ.get("WARDEN_BIN", os.path.join(REPO, ".build", "debug", "warden"))
WARDEN_FAKE = os.environ.get("WARDEN_FAKE_BIN", os.path.join(REPO, ".build", "debug", "warden-fake"))
SCREENSHOTS = os.environ.get("AA_SCREENSHOT_DIR", os.path.join(REPO, ".build", "aa-screenshots"))
ADMIN_TOKEN = "warden-sync-test-admin-token-0123456789"


def require(path, what):
    """A missing tool fails the test in CI and skips it elsewhere."""
    if os.path.exists(path) and os.access(path, os.X_OK):
        return
    message = f"{what} is missing: {path}"
    if os.environ.get("CI"):
        raise AssertionError(message + " (CI: a missing tool is a failure)")
    raise unittest.SkipTest(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, timeout=30.0, interval=0.1):
    """Polls `predicate` until it returns something truthy (returned) or the timeout (fails)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def http_json(url, method="GET", body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


def browser():
    require(CHROMIUM, "chromium (apt-get install chromium)")
    require(CHROMEDRIVER, "chromedriver (apt-get install chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1100",
                     # No network: external stylesheets and scripts fail at once instead of waiting.
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def screenshot(driver, name, css=None):
    """Saves the page as NAME.png, and with `css` also that element alone as NAME-part.png (the pages
    render without Alliance Auth's CDN stylesheets here: there is no network)."""
    from selenium.webdriver.common.by import By

    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    driver.save_screenshot(path)
    if css:
        element = driver.find_element(By.CSS_SELECTOR, css)
        driver.execute_script("arguments[0].scrollIntoView();", element)
        element.screenshot(os.path.join(SCREENSHOTS, f"{name}-part.png"))
    return path


def member_state():
    state, _ = State.objects.get_or_create(name="Member", defaults={"priority": 100})
    return state


def access_permission():
    return Permission.objects.get(content_type__app_label="warden_sync", codename="access_discord")


def make_member(username, character_id, superuser=False):
    user = User.objects.create_user(username, password="password")
    main = EveCharacter.objects.create(
        character_id=character_id, character_name=username.replace("_", " ").title(),
        corporation_id=98000001, corporation_name="Wayne Enterprises", corporation_ticker="WYE")
    user.profile.main_character = main
    user.profile.save()
    state = member_state()
    state.member_characters.add(main)
    user.profile.refresh_from_db()
    user.profile.assign_state()
    if superuser:
        user.is_superuser = user.is_staff = True
        user.save()
    return User.objects.get(pk=user.pk)


class BrowserTestCase(StaticLiveServerTestCase):
    """A live Alliance Auth (Django's live server on 127.0.0.1) and a headless Chromium."""

    host = "127.0.0.1"
    serialized_rollback = True  # Alliance Auth's states (made by its migrations) survive the flush

    @classmethod
    def setUpClass(cls):
        cls.driver = browser()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        super().tearDownClass()

    def log_in(self, user):
        """Logs the browser in as `user` (Alliance Auth logs in through EVE SSO; the session cookie
        of a Django test client login stands in for it)."""
        client = Client()
        client.force_login(user)
        self.driver.delete_all_cookies()
        self.driver.get(self.live_server_url + "/static/allianceauth/icons/favicon.ico")
        self.driver.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value, "path": "/"})

    def open(self, path):
        self.driver.get(self.live_server_url + path)
        return self.driver

    def text(self, css):
        from selenium.webdriver.common.by import By
        return " ".join(e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css))

    def visible(self, css):
        from selenium.webdriver.common.by import By
        return [e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]

    def click(self, css):
        from selenium.webdriver.common.by import By
        self.driver.find_element(By.CSS_SELECTOR, css).click()


class WardenProcesses:
    """`warden-fake` and `warden run` as child processes on loopback ports."""

    def __init__(self, success_url):
        require(WARDEN, "the warden binary (swift build --product warden)")
        require(WARDEN_FAKE, "the warden-fake binary (swift build --product warden-fake)")
        self.directory = tempfile.mkdtemp(prefix="warden-e2e-")
        self.fake_process = subprocess.Popen([WARDEN_FAKE, "--heartbeat-ms", "2000"], stdout=subprocess.PIPE,
                                             stderr=open(os.path.join(self.directory, "fake.log"), "w"), text=True)
        line = self.fake_process.stdout.readline()
        if not line:
            raise AssertionError("warden-fake printed nothing; see " + self.directory)
        self.fake = json.loads(line)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "discord": {"app_id": self.fake["app_id"], "app_secret": self.fake["app_secret"],
                        "bot_token": self.fake["bot_token"], "guild_id": self.fake["guild_id"],
                        "callback_url": f"{self.url}/discord/callback/",
                        "api_base_url": self.fake["api_base_url"], "gateway_url": self.fake["gateway_url"],
                        "oauth_authorize_url": self.fake["authorize_url"], "audit_interval": 3600},
            "store": {"path": os.path.join(self.directory, "warden.sqlite3")},
            "http": {"listen": f"127.0.0.1:{self.port}", "public_url": self.url, "admin_token": ADMIN_TOKEN,
                     "success_url": success_url},
            "log": {"format": "json", "level": "info"},
        }
        self.config_path = os.path.join(self.directory, "config.json")
        with open(self.config_path, "w") as handle:
            json.dump(config, handle)
        self.log_path = os.path.join(self.directory, "warden.log")
        self.warden_process = subprocess.Popen([WARDEN, "run", "--config", self.config_path],
                                               stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"),
                                               env={"PATH": "/usr/bin:/bin"})
        wait_for("warden /readyz", self._ready, timeout=60)

    def _ready(self):
        if self.warden_process.poll() is not None:
            raise AssertionError(f"warden exited with {self.warden_process.returncode}: {self.log()}")
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log(self):
        with open(self.log_path) as handle:
            return handle.read()[-4000:]

    def control(self, path, method="GET", body=None):
        return http_json(self.fake["control_url"] + path, method=method, body=body)

    def member(self, discord_id):
        guild = self.control("/guild")
        for member in guild["members"]:
            if member["user"]["id"] == discord_id:
                return member
        return None

    def role_id(self, name):
        return next(r["id"] for r in self.control("/guild")["roles"] if r["name"] == name)

    def api(self, path, method="GET", body=None):
        return http_json(self.url + path, method=method, body=body, token=ADMIN_TOKEN)

    def stop(self):
        for process in (self.warden_process, self.fake_process):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def warden_settings(url):
    return override_settings(WARDEN_URL=url)
