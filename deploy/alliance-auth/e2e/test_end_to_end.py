"""One end-to-end run: Alliance Auth (Django's live server) with warden_sync, the real `warden run`,
and DiscordFake as its own process (`warden-fake`), driven by headless Chromium like a user:

1. the user opens the services page and clicks Activate: Auth pushes the record and fetches a fresh
   activation link; the browser follows it to Warden (which sets its cookie), to the fake's consent
   page and back to Warden's callback; Warden adds the member with the Member role and redirects to
   the services page, which now shows the linked name;
2. a group change in Auth reaches Discord (the role appears on the member);
3. Deactivate: Warden kicks the member and the page offers Activate again;
4. the Warden page against the real daemon.
Screenshots: e2e-1-unlinked.png, e2e-2-linked.png, e2e-3-deactivated.png, warden-page-daemon.png.
"""

from django.contrib.auth.models import Group

from .support import (BrowserTestCase, WardenProcesses, access_permission, make_member, member_state,
                      screenshot, wait_for, warden_settings)


class EndToEndTests(BrowserTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.processes = WardenProcesses(success_url=cls.live_server_url + "/services/")
        cls.settings = warden_settings(cls.processes.url)
        cls.settings.enable()

    @classmethod
    def tearDownClass(cls):
        cls.settings.disable()
        cls.processes.stop()
        super().tearDownClass()

    def test_link_group_change_deactivate(self):
        fake = self.processes
        discord_user = fake.control("/users", "POST", {"username": "bruce_discord"})
        fake.control("/consent", "POST", {"user_id": discord_user["id"]})
        member_state().permissions.add(access_permission())
        bruce = make_member("bruce_wayne", 95200001)
        self.log_in(bruce)

        self.open("/services/")
        screenshot(self.driver, "e2e-1-unlinked", css=".card:has(#warden-discord-name)")
        self.click("#warden-activate")
        wait_for("the services page after linking", lambda: self.visible("#warden-deactivate"), timeout=30)
        screenshot(self.driver, "e2e-2-linked", css=".card:has(#warden-discord-name)")
        self.assertIn("@bruce_discord", self.text("#warden-discord-name"))
        member = wait_for("the member in the guild", lambda: fake.member(discord_user["id"]))
        self.assertIn(fake.role_id("Member"), member["roles"], "the state's role")
        self.assertEqual(fake.api(f"/api/users/{bruce.pk}")["discord"]["uid"], discord_user["id"])

        fleet = Group.objects.create(name="Fleet Commanders")
        bruce.groups.add(fleet)
        fleet_role = fake.role_id("Fleet Commanders")
        wait_for("the group's role on the member",
                 lambda: fleet_role in ((fake.member(discord_user["id"]) or {}).get("roles") or []))

        self.click("#warden-deactivate")
        wait_for("the Activate button again", lambda: self.visible("#warden-activate"), timeout=30)
        screenshot(self.driver, "e2e-3-deactivated", css=".card:has(#warden-discord-name)")
        self.assertIn("Deactivated Discord account.", self.text(".alert"))
        wait_for("the member kicked", lambda: fake.member(discord_user["id"]) is None)
        self.assertIsNone(fake.api(f"/api/users/{bruce.pk}")["discord"])

        admin = make_member("admin_user", 95200002, superuser=True)
        self.log_in(admin)
        self.open("/warden/status/")
        screenshot(self.driver, "warden-page-daemon", css="#warden-status-page")
        self.assertIn("connected", self.text("#warden-gateway-state"))
        self.assertTrue(self.visible("#warden-alerts"))
        self.assertTrue(self.visible(".warden-guild-status"))
        # This daemon has no GET /api/corrections yet (SPEC 9): the page says so instead of failing.
        corrections = self.text("#warden-corrections")
        self.assertTrue("does not report its corrections" in corrections or "When" in corrections, corrections)
