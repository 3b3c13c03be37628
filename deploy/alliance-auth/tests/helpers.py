"""Shared test set-up: one MockWarden per test process, users made with Alliance Auth's real models."""

from django.contrib.auth.models import User
from django.test import TestCase, override_settings

from allianceauth.authentication.models import Permission, State  # AA's proxy: State.permissions needs it
from allianceauth.eveonline.models import EveCharacter

from warden_sync.models import OutboxEntry

from .mock_warden import MockWarden

_mock = None


def mock_warden():
    global _mock
    if _mock is None:
        _mock = MockWarden().start()
    return _mock


def access_permission():
    return Permission.objects.get(content_type__app_label="warden_sync", codename="access_discord")


def member_state():
    return State.objects.get(name="Member")


_next_character = [95_000_000]


def make_character(name, corp_id=98000001, corp_name="Wayne Enterprises", corp_ticker="WYE",
                   alliance_id=None, alliance_name="", alliance_ticker=""):
    _next_character[0] += 1
    return EveCharacter.objects.create(
        character_id=_next_character[0], character_name=name, corporation_id=corp_id,
        corporation_name=corp_name, corporation_ticker=corp_ticker, alliance_id=alliance_id,
        alliance_name=alliance_name, alliance_ticker=alliance_ticker)


def make_member(username, main_name=None):
    """An active user with a main character in the Member state (which has the access permission
    when the test gives it)."""
    user = User.objects.create_user(username, password="password")
    character = make_character(main_name or username.replace("_", " ").title())
    profile = user.profile
    profile.main_character = character
    profile.save()
    state = member_state()
    state.member_characters.add(character)
    profile.refresh_from_db()
    profile.assign_state()
    return User.objects.get(pk=user.pk)


class WardenTestCase(TestCase):
    """A TestCase whose Warden is the mock. Changes run inside the test's transaction, so a test
    wraps them in `self.committed()` to run what Django runs after a real commit."""

    @classmethod
    def setUpClass(cls):
        cls.warden = mock_warden()
        cls._warden_settings = override_settings(WARDEN_URL=cls.warden.url)
        cls._warden_settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._warden_settings.disable()

    def setUp(self):
        super().setUp()
        if self.warden.server is None:
            self.warden.start()
        self.warden.clear()
        from django.core.cache import cache
        cache.clear()

    def committed(self):
        """Runs the on_commit callbacks of what happens inside the block when the block ends, as a
        real commit would."""
        return self.captureOnCommitCallbacks(execute=True)

    def settle(self):
        """Commits nothing new; starts from an empty outbox and an empty request log."""
        OutboxEntry.objects.all().delete()
        self.warden.reset()
