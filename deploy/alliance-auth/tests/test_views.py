"""The services page's Discord entry, its POST-only buttons, the message for users without access,
and the superuser's Warden page, rendered by real Alliance Auth views against the mock Warden."""

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from .helpers import WardenTestCase, access_permission, make_member, member_state


class ServicesEntryTests(WardenTestCase):
    def setUp(self):
        super().setUp()
        member_state().permissions.add(access_permission())
        self.bruce = make_member("bruce_wayne")
        self.client.force_login(self.bruce)
        self.settle()

    def services_page(self):
        response = self.client.get(reverse("services:services"))
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_an_unlinked_user_sees_activate_and_one_guild_row(self):
        page = self.services_page()
        self.assertIn("Discord", page)
        self.assertIn('id="warden-activate"', page)
        self.assertNotIn('id="warden-deactivate"', page)
        self.assertEqual(page.count('class="warden-guild"'), 1, "a one-guild Warden: one row")
        self.assertIn("Not a member", page)
        self.assertNotIn("Link Discord", page, "no menu entry for linking")

    def test_a_linked_user_sees_the_name_reset_and_deactivate(self):
        self.warden.users[self.bruce.pk] = {"id": self.bruce.pk}
        self.warden.links[self.bruce.pk] = "80351110224678912"
        page = self.services_page()
        self.assertIn("@user8912", page)
        self.assertIn('id="warden-reset"', page)
        self.assertIn('id="warden-deactivate"', page)
        self.assertNotIn('id="warden-activate"', page)
        self.assertIn("Member", page)
        self.assertNotIn("Link Discord", page)

    def test_several_guilds_show_membership_and_a_join_button(self):
        self.warden.guilds = [{"id": "111", "label": "Main server"}, {"id": "222", "label": "Coalition"},
                              {"id": "333", "label": "Leadership", "access": False}]
        self.warden.users[self.bruce.pk] = {"id": self.bruce.pk, "can_access_discord": True}
        self.warden.links[self.bruce.pk] = "80351110224678912"
        self.warden.memberships[(self.bruce.pk, "111")] = True
        page = self.services_page()
        self.assertEqual(page.count('class="warden-guild"'), 3)
        self.assertIn("Main server", page)
        self.assertEqual(page.count("warden-join"), 1, "Join only where access and not a member")
        self.assertIn('name="guild_id" value="222"', page)
        self.assertIn("No access", page)

        response = self.client.post(reverse("warden_sync:activate"), {"guild_id": "222"})
        self.assertEqual(response.status_code, 302)
        link = self.warden.calls("POST")[-1]
        self.assertEqual(link.body, {"guild_id": "222"})
        self.assertIn("guild=222", response["Location"])

    def test_warden_unreachable_still_renders_the_page(self):
        self.warden.stop()
        try:
            page = self.services_page()
        finally:
            self.warden.start()
        self.assertIn('id="warden-unreachable"', page)
        self.assertIn('id="warden-activate"', page)

    def test_activate_pushes_the_record_then_fetches_a_fresh_link_each_click(self):
        first = self.client.post(reverse("warden_sync:activate"))
        second = self.client.post(reverse("warden_sync:activate"))
        self.assertEqual([str(r) for r in self.warden.calls()], [
            f"PUT /api/users/{self.bruce.pk}", f"POST /api/users/{self.bruce.pk}/discord/activation-link",
            f"PUT /api/users/{self.bruce.pk}", f"POST /api/users/{self.bruce.pk}/discord/activation-link"])
        self.assertEqual(first.status_code, 302)
        self.assertTrue(first["Location"].startswith(self.warden.url + "/discord/activate?token="))
        self.assertNotEqual(first["Location"], second["Location"], "the single-use link is never reused")

    def test_deactivate_and_reset(self):
        self.warden.users[self.bruce.pk] = {"id": self.bruce.pk}
        self.warden.links[self.bruce.pk] = "80351110224678912"
        response = self.client.post(reverse("warden_sync:deactivate"), follow=True)
        self.assertEqual(response.redirect_chain[-1][0], reverse("services:services"))
        self.assertContains(response, "Deactivated Discord account.")
        self.assertNotIn(self.bruce.pk, self.warden.links)
        self.warden.links[self.bruce.pk] = "80351110224678912"
        self.warden.reset()
        response = self.client.post(reverse("warden_sync:reset"))
        self.assertEqual([r.method for r in self.warden.calls()], ["DELETE", "PUT", "POST"])
        self.assertTrue(response["Location"].startswith(self.warden.url + "/discord/activate?token="))

    def test_the_buttons_refuse_get(self):
        for name in ("activate", "deactivate", "reset"):
            response = self.client.get(reverse(f"warden_sync:{name}"))
            self.assertEqual(response.status_code, 405, name)
        self.assertEqual(self.warden.calls(), [], "a GET changes nothing")

    def test_the_buttons_need_the_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.bruce)
        for name in ("activate", "deactivate", "reset"):
            self.assertEqual(client.post(reverse(f"warden_sync:{name}")).status_code, 403, name)
        self.assertEqual(self.warden.calls(), [])
        page = client.get(reverse("services:services")).content.decode()
        self.assertIn("csrfmiddlewaretoken", page, "the page's forms carry the token")

    def test_a_user_without_the_permission_gets_a_clear_message(self):
        guest = User.objects.create_user("guest_user")
        guest.profile.main_character = make_member("guest_main").profile.main_character
        other = make_member("no_access_user")
        member_state().permissions.remove(access_permission())
        self.client.force_login(other)
        self.settle()
        response = self.client.post(reverse("warden_sync:activate"))
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "You do not have access to the Discord service.", status_code=403)
        self.assertEqual(self.warden.calls(), [])


class StatusPageTests(WardenTestCase):
    def setUp(self):
        super().setUp()
        self.admin = make_member("admin_user")
        self.admin.is_superuser = self.admin.is_staff = True
        self.admin.save()
        self.client.force_login(self.admin)

    def test_only_superusers(self):
        self.client.force_login(make_member("bruce_wayne"))
        response = self.client.get(reverse("warden_sync:status"))
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("warden-status-page", self.client.get(reverse("warden_sync:status"), follow=True).content.decode())

    def test_status_alerts_and_corrections_missing(self):
        bruce = make_member("bruce_wayne")
        self.warden.status["skipped"] = [{"user_id": bruce.pk, "discord_uid": "900", "reason": "owner"}]
        self.warden.alerts = {"open": [
            {"kind": "bot_role_not_top", "severity": "warning", "message": "Warden's role is below Pilots",
             "details": {}, "raised_at": "2027-01-15T08:01:40Z", "resolved_at": None},
            {"kind": "unlinked_members", "severity": "warning", "message": "2 unlinked member(s) hold Auth-managed roles",
             "details": {"count": 2, "discord_uids": ["901", "902"]}, "raised_at": "2027-01-15T08:02:00Z",
             "resolved_at": None}], "recent": []}
        page = self.client.get(reverse("warden_sync:status")).content.decode()
        self.assertIn("connected", page)
        self.assertIn("bot_role_not_top", page)
        self.assertIn("Warden&#x27;s role is below Pilots", page)
        self.assertTrue("<td>bruce_wayne</td>" in page, "skipped members are named by their Auth username")
        self.assertIn("901, 902", page)
        self.assertIn('id="warden-corrections-unavailable"', page)

    def test_corrections_with_the_actor(self):
        bruce = make_member("bruce_wayne")
        self.warden.corrections = [
            {"at": "2027-01-15T08:03:00Z", "guild_id": "1", "user_id": bruce.pk, "discord_uid": "900",
             "cause": "manual_edit", "change": "add role Pilots", "actor": {"id": "42", "name": "joker", "bot": False}},
            {"at": "2027-01-15T08:02:00Z", "guild_id": "1", "user_id": bruce.pk, "discord_uid": "900",
             "cause": "auth_change", "change": "remove role Blue", "actor": None}]
        page = self.client.get(reverse("warden_sync:status")).content.decode()
        self.assertIn("joker", page)
        self.assertIn("manual_edit", page)
        self.assertEqual(page.count('class="warden-correction"'), 2)
        self.assertTrue(self.warden.calls("GET", "/api/corrections?since="))

    def test_per_guild_sections(self):
        self.warden.status["guilds"] = [
            {"id": "111", "label": "Main server", "cache": {"roles": 5, "members": 10, "complete": True},
             "bot": {"top": True, "missing_permissions": []}, "pending_writes": 0,
             "skipped": [{"user_id": None, "discord_uid": "77", "reason": "member_above_bot"}], "observed": []},
            {"id": "222", "label": "Coalition", "cache": {"roles": 3, "members": 4, "complete": True},
             "bot": {"top": False, "missing_permissions": ["KICK_MEMBERS"]}, "pending_writes": 0,
             "skipped": [], "observed": []}]
        self.warden.alerts = {"open": [
            {"kind": "unlinked_members", "severity": "warning", "message": "1 unlinked",
             "details": {"count": 1, "discord_uids": ["555"], "guild_id": "222", "guild_label": "Coalition"},
             "raised_at": "2027-01-15T08:02:00Z", "resolved_at": None}], "recent": []}
        page = self.client.get(reverse("warden_sync:status")).content.decode()
        self.assertEqual(page.count('class="card mb-3 warden-guild-status"'), 2)
        self.assertIn("Main server", page)
        self.assertIn("KICK_MEMBERS", page)
        self.assertIn("member_above_bot", page)
        self.assertIn("1: 555", page)

    def test_the_read_only_admin_pages(self):
        for name in ("outboxentry", "migratedlink"):
            response = self.client.get(reverse(f"admin:warden_sync_{name}_changelist"))
            self.assertEqual(response.status_code, 200, name)

    def test_warden_down(self):
        self.warden.stop()
        try:
            page = self.client.get(reverse("warden_sync:status")).content.decode()
        finally:
            self.warden.start()
        self.assertIn('id="warden-status-error"', page)
