"""warden_sync.access_discord: created by the app's migrations on a fresh install, copied from Alliance
Auth's discord.access_discord (user, group and state assignments) on a migrated one."""

from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from allianceauth.authentication.models import Permission, State

from warden_sync.records import load_users, user_record

from .helpers import WardenTestCase, make_member


def can_access(user):
    fresh = load_users([user.pk])[user.pk]
    return user_record(fresh)["can_access_discord"]


class FreshInstallTests(WardenTestCase):
    def test_the_permission_exists_with_alliance_auths_name(self):
        permission = Permission.objects.get(content_type__app_label="warden_sync", codename="access_discord")
        self.assertEqual(permission.name, "Can access the Discord service")
        self.assertFalse(Permission.objects.filter(content_type__app_label="discord").exists(),
                         "a fresh install never had Alliance Auth's Discord service")

    def test_can_access_discord_follows_the_new_permission(self):
        member = make_member("bruce_wayne")
        self.assertFalse(can_access(member), "nobody has access before it is given")
        State.objects.get(name="Member").permissions.add(
            Permission.objects.get(content_type__app_label="warden_sync", codename="access_discord"))
        self.assertTrue(can_access(member))
        self.assertFalse(can_access(User.objects.create_user("guest")))


class PermissionMigrationTests(WardenTestCase):
    """Runs warden_sync's data migration on a database that has Alliance Auth's permission rows
    assigned (as left behind when its Discord service left INSTALLED_APPS). (SQLite cannot run the
    migration executor inside a test's transaction, so the migration's function runs here; the
    real `migrate` of a migrated site is tests/test_migrated_install.py.)"""

    def test_the_assignments_of_discord_access_discord_are_copied(self):
        migration = importlib.import_module("warden_sync.migrations.0002_copy_discord_access_permission")
        Permission.objects.filter(content_type__app_label="warden_sync").delete()
        old_type = ContentType.objects.create(app_label="discord", model="discorduser")
        old = Permission.objects.create(content_type=old_type, codename="access_discord",
                                        name="Can access the Discord service")
        direct = User.objects.create_user("direct")
        direct.user_permissions.add(old)
        pilots = Group.objects.create(name="Pilots")
        grouped = User.objects.create_user("grouped")
        grouped.groups.add(pilots)
        pilots.permissions.add(old)
        member = make_member("member_user")
        State.objects.get(name="Member").permissions.add(old)
        nobody = User.objects.create_user("nobody")

        migration.copy_assignments(apps, SimpleNamespace(connection=connection))
        migration.copy_assignments(apps, SimpleNamespace(connection=connection))  # twice: no harm

        new = Permission.objects.get(content_type__app_label="warden_sync", codename="access_discord")
        self.assertTrue(direct.user_permissions.filter(pk=new.pk).exists())
        self.assertTrue(pilots.permissions.filter(pk=new.pk).exists())
        self.assertTrue(State.objects.get(name="Member").permissions.filter(pk=new.pk).exists())
        self.assertEqual([can_access(u) for u in (direct, grouped, member, nobody)], [True, True, True, False])

        # The old permission can go now (remove_stale_contenttypes): nobody's access changes.
        old_type.delete()
        self.assertEqual([can_access(u) for u in (direct, grouped, member, nobody)], [True, True, True, False])
