"""manage.py warden_migrate_from_discord against the table Alliance Auth's Discord service leaves
behind when it leaves INSTALLED_APPS (created here with the same columns and foreign key)."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from warden_sync.models import MigratedLink

from .helpers import WardenTestCase, access_permission, make_member, member_state

OLD_TABLE = """CREATE TABLE discord_discorduser (
    user_id integer NOT NULL PRIMARY KEY REFERENCES auth_user (id),
    uid bigint NOT NULL,
    username varchar(32) NOT NULL,
    discriminator varchar(4) NOT NULL,
    activated datetime NULL)"""


class MigrateFromDiscordTests(WardenTestCase):
    def setUp(self):
        super().setUp()
        member_state().permissions.add(access_permission())
        self.bruce = make_member("bruce_wayne")
        self.clark = make_member("clark_kent")
        self.diana = make_member("diana_prince")
        with connection.cursor() as cursor:
            cursor.execute(OLD_TABLE)
            cursor.executemany(
                "INSERT INTO discord_discorduser VALUES (%s, %s, %s, %s, %s)",
                [(self.bruce.pk, 80351110224678912, "bruce", "0", "2024-05-01 10:00:00"),
                 (self.clark.pk, 80351110224678913, "clark", "0", "2024-05-02 10:00:00"),
                 # The same Discord account as bruce's, linked earlier: Alliance Auth allowed it.
                 (self.diana.pk, 80351110224678912, "bruce", "0", "2024-01-01 10:00:00")])
        self.settle()

    def run_command(self, name="warden_migrate_from_discord", *args):
        out, err = io.StringIO(), io.StringIO()
        call_command(name, *args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    def old_rows(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM discord_discorduser")
            return cursor.fetchone()[0]

    def test_before_the_migration_deleting_a_user_fails_on_the_old_table(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            self.clark.delete()

    def test_import_then_empty_then_safe_to_run_again(self):
        out, err = self.run_command()
        self.assertEqual(self.warden.links, {self.bruce.pk: "80351110224678912", self.clark.pk: "80351110224678913"})
        self.assertIn("imported 2 links", out)
        self.assertIn(f"user {self.diana.pk}", err, "the dropped duplicate is named")
        self.assertEqual(self.old_rows(), 0)
        batch = self.warden.calls("PUT", "/api/users")[0]
        self.assertEqual(batch.path, "/api/users", "one batch")
        self.assertEqual({r["id"] for r in batch.body}, {self.bruce.pk, self.clark.pk})

        self.warden.reset()
        out, _ = self.run_command()
        self.assertIn("nothing left to migrate", out)
        self.assertEqual(self.warden.calls("PUT"), [])

        # Deleting a user works now, and Warden is told.
        user_id = self.clark.pk
        with self.committed():
            self.clark.delete()
        self.assertIn(f"DELETE /api/users/{user_id}", [str(r) for r in self.warden.calls("DELETE")])

    def test_a_link_warden_removed_is_never_brought_back(self):
        self.run_command()
        self.warden.links.pop(self.clark.pk)  # Warden kicked clark later (lost access, deactivated)
        self.warden.reset()
        self.run_command()
        self.run_command("warden_push_all", "--with-links")
        self.assertNotIn(self.clark.pk, self.warden.links)
        self.assertTrue(all("discord" not in r for r in self.warden.pushed_records()))

    def test_push_all_with_links_before_the_migration_hands_each_link_over_once(self):
        self.run_command("warden_push_all", "--with-links")
        self.assertEqual(self.warden.links[self.bruce.pk], "80351110224678912")
        self.assertEqual(self.old_rows(), 3, "push_all leaves the table; the migration command empties it")
        self.warden.links.pop(self.bruce.pk)
        self.run_command("warden_push_all", "--with-links")
        self.assertNotIn(self.bruce.pk, self.warden.links)
        out, _ = self.run_command()
        self.assertIn("0 to import", out)
        self.assertEqual(self.old_rows(), 0)

    def test_warden_down_empties_nothing(self):
        self.warden.stop()
        try:
            with self.assertRaises(CommandError):
                self.run_command()
        finally:
            self.warden.start()
        self.assertEqual(self.old_rows(), 3)
        self.assertFalse(MigratedLink.objects.exists())
        self.run_command()
        self.assertEqual(self.old_rows(), 0)

    def test_a_refused_link_is_named_and_remembered(self):
        self.warden.users[999] = {"id": 999}
        self.warden.links[999] = "80351110224678913"  # clark's account is linked to someone in Warden
        out, err = self.run_command()
        self.assertIn(f"user {self.clark.pk}", err)
        self.assertIn("refused", err)
        self.assertEqual(MigratedLink.objects.get(user_id=self.clark.pk).outcome, MigratedLink.OUTCOME_REFUSED)
        self.assertEqual(self.warden.links[self.bruce.pk], "80351110224678912")

    def test_no_old_table_at_all(self):
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE discord_discorduser")
        out, _ = self.run_command()
        self.assertIn("never installed", out)
