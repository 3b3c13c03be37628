"""The install guide followed end to end on a site that ran Alliance Auth's own Discord service, with
real `manage.py` runs on one SQLite database:

1. the site before: Alliance Auth 5.5 with allianceauth.services.modules.discord, its permission given
   to the Member state and to a group, and two linked users (its DiscordUser rows);
2. the switch: the Discord service out of INSTALLED_APPS, warden_sync in, `migrate`;
3. can_access_discord is what it was, also after `remove_stale_contenttypes --include-stale-apps`;
4. `warden_migrate_from_discord` imports the links into (the mock) Warden and empties the old table;
   run again it does nothing; deleting a linked user works and Warden is told.
"""

import json
import os
import subprocess
import sys
import tempfile

from django.test import SimpleTestCase

from .helpers import mock_warden

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BEFORE = """
from django.contrib.auth.models import Group, User
from allianceauth.authentication.models import Permission, State
from allianceauth.eveonline.models import EveCharacter
from allianceauth.services.modules.discord.models import DiscordUser

perm = Permission.objects.get(content_type__app_label="discord", codename="access_discord")
member = State.objects.get(name="Member")
member.permissions.add(perm)

def user_with_main(name, character_id):
    user = User.objects.create_user(name)
    main = EveCharacter.objects.create(character_id=character_id, character_name=name.title(),
        corporation_id=98000001, corporation_name="Wayne Enterprises", corporation_ticker="WYE")
    user.profile.main_character = main
    user.profile.save()
    member.member_characters.add(main)
    user.profile.assign_state()
    return user

bruce = user_with_main("bruce", 95000001)
pilots = Group.objects.create(name="Pilots")
pilots.permissions.add(perm)
grouped = User.objects.create_user("grouped")
grouped.groups.add(pilots)
User.objects.create_user("nobody")
DiscordUser.objects.create(user=bruce, uid=80351110224678912, username="bruce", discriminator="0")
DiscordUser.objects.create(user=grouped, uid=80351110224678913, username="grouped", discriminator="0")
print("ready")
"""

ACCESS = """
import json
from warden_sync.records import load_users, user_record
from django.contrib.auth.models import User
users = load_users(User.objects.values_list("pk", flat=True))
print(json.dumps({u.username: user_record(u)["can_access_discord"] for u in users.values()}))
"""

DELETE = """
from django.contrib.auth.models import User
User.objects.get(username="bruce").delete()
print("deleted")
"""


class MigratedInstallTests(SimpleTestCase):
    def setUp(self):
        self.warden = mock_warden()
        self.warden.clear()
        self.directory = tempfile.mkdtemp(prefix="warden-sync-migrated-")
        self.env = dict(os.environ, TESTAUTH_DB=os.path.join(self.directory, "auth.sqlite3"),
                        WARDEN_URL=self.warden.url)

    def manage(self, *args, settings="testauth.settings.local", stdin=None):
        env = dict(self.env, DJANGO_SETTINGS_MODULE=settings)
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=HERE, env=env, input=stdin,
                                capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, f"manage.py {' '.join(args)}:\n{result.stdout}\n{result.stderr[-3000:]}")
        return result.stdout

    def access(self):
        return json.loads(self.manage("shell", "-c", ACCESS).strip().splitlines()[-1])

    def test_the_install_guide_on_a_site_that_ran_alliance_auths_discord_service(self):
        self.manage("migrate", "--noinput", settings="testauth.settings.discord_only")
        self.assertIn("ready", self.manage("shell", "-c", BEFORE, settings="testauth.settings.discord_only"))

        self.manage("migrate", "--noinput")
        expected = {"bruce": True, "grouped": True, "nobody": False}
        self.assertEqual(self.access(), expected)

        self.manage("remove_stale_contenttypes", "--include-stale-apps", "--noinput")
        self.assertEqual(self.access(), expected, "the old permission's removal changes nobody's access")

        out = self.manage("warden_migrate_from_discord")
        self.assertIn("imported 2 links", out)
        self.assertEqual(sorted(self.warden.links.values()), ["80351110224678912", "80351110224678913"])
        out = self.manage("warden_migrate_from_discord")
        self.assertIn("nothing left to migrate", out)

        self.warden.reset()
        self.assertIn("deleted", self.manage("shell", "-c", DELETE))
        self.assertEqual([r.method for r in self.warden.calls("DELETE")], ["DELETE"])
