"""The services page's Discord entry and the Warden page in headless Chromium, against the mock
Warden: what a user sees (the linked name, the buttons, the guild rows, the alert list).
Screenshots: services-unlinked.png, services-linked.png, services-guilds.png, warden-page-mock.png."""

from tests.helpers import mock_warden

from .support import (BrowserTestCase, access_permission, make_member, member_state, screenshot, wait_for,
                      warden_settings)


class BrowserPagesTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        self.warden = mock_warden()
        self.warden.clear()
        self.settings = warden_settings(self.warden.url)
        self.settings.enable()
        member_state().permissions.add(access_permission())

    def tearDown(self):
        self.settings.disable()
        super().tearDown()

    def test_the_services_entry_and_the_warden_page(self):
        bruce = make_member("bruce_wayne", 95100001)
        self.log_in(bruce)

        self.open("/services/")
        screenshot(self.driver, "services-unlinked", css=".card:has(#warden-discord-name)")
        self.assertIn("Discord", self.text(".card-title"))
        self.assertEqual(len(self.visible("#warden-activate")), 1, "Activate is shown")
        self.assertEqual(self.visible("#warden-deactivate"), [])
        self.assertIn("Not a member", self.text(".warden-guild"))
        self.assertNotIn("Link Discord", self.text("#sidebar-menu"))

        self.warden.users[bruce.pk] = {"id": bruce.pk, "can_access_discord": True}
        self.warden.links[bruce.pk] = "80351110224678912"
        self.open("/services/")
        screenshot(self.driver, "services-linked", css=".card:has(#warden-discord-name)")
        self.assertIn("@user8912", self.text("#warden-discord-name"))
        self.assertEqual(len(self.visible("#warden-reset")), 1)
        self.assertEqual(len(self.visible("#warden-deactivate")), 1)
        self.assertEqual(self.visible("#warden-activate"), [])
        self.assertIn("Enabled", self.text(".card .badge"))

        self.warden.guilds = [{"id": "111", "label": "Main server"}, {"id": "222", "label": "Coalition"}]
        self.warden.memberships[(bruce.pk, "111")] = True
        self.open("/services/")
        screenshot(self.driver, "services-guilds", css=".card:has(#warden-discord-name)")
        rows = self.text(".warden-guild")
        self.assertIn("Main server", rows)
        self.assertIn("Coalition", rows)
        self.assertEqual(len(self.visible(".warden-join")), 1, "Join where the user may go and is not")

        # Deactivate, clicked as a user would: a POST with the CSRF token.
        self.click("#warden-deactivate")
        wait_for("the services page after Deactivate", lambda: self.visible("#warden-activate"))
        self.assertIn("Deactivated Discord account.", self.text(".alert"))
        self.assertNotIn(bruce.pk, self.warden.links)

        admin = make_member("admin_user", 95100002, superuser=True)
        self.warden.alerts = {"open": [
            {"kind": "bot_role_not_top", "severity": "warning", "message": "Warden's role is below Pilots",
             "details": {}, "raised_at": "2027-01-15T08:01:40Z", "resolved_at": None},
            {"kind": "missing_permissions", "severity": "critical", "message": "the bot lacks KICK_MEMBERS",
             "details": {}, "raised_at": "2027-01-15T08:02:40Z", "resolved_at": None}], "recent": []}
        self.warden.corrections = [
            {"at": "2027-01-15T08:03:00Z", "guild_id": "1", "user_id": bruce.pk, "discord_uid": "900",
             "cause": "manual_edit", "change": "add role Pilots", "actor": {"id": "42", "name": "joker", "bot": False}}]
        self.log_in(admin)
        self.open("/warden/status/")
        screenshot(self.driver, "warden-page-mock", css="#warden-status-page")
        kinds = [e.text for e in self.visible(".warden-alert-kind")]
        self.assertEqual(kinds, ["bot_role_not_top", "missing_permissions"])
        self.assertIn("Warden's role is below Pilots", self.text("#warden-alert-list"))
        self.assertIn("connected", self.text("#warden-gateway-state"))
        self.assertIn("joker", self.text(".warden-actor"))
