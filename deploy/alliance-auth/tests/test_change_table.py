"""Every row of the README's change table ("What is pushed, and when"): the change, made with Alliance
Auth's real models, reaches the mock Warden after the commit with the right record; changes that
shape no record send nothing."""

from django.contrib.auth.models import Group, User
from django.db import transaction

from allianceauth.authentication.models import State
from allianceauth.groupmanagement.models import ReservedGroupName

from warden_sync.models import OutboxEntry

from .helpers import WardenTestCase, access_permission, make_character, make_member, member_state


class ChangeTableTests(WardenTestCase):
    def setUp(self):
        super().setUp()
        member_state().permissions.add(access_permission())
        self.bruce = make_member("bruce_wayne")
        self.clark = make_member("clark_kent")
        self.fleet = Group.objects.create(name="Fleet Commanders")
        self.settle()

    def assertPushed(self, user, **fields):
        record = self.warden.last_record(user.pk)
        self.assertIsNotNone(record, f"no record of {user} reached Warden")
        for key, value in fields.items():
            self.assertEqual(record[key], value, key)
        return record

    def test_nothing_is_sent_before_the_commit(self):
        with self.committed():
            self.bruce.groups.add(self.fleet)
            self.assertEqual(self.warden.calls(), [], "a push went out before the transaction committed")
        self.assertPushed(self.bruce, groups=["Fleet Commanders"])

    def test_row_user_joins_or_leaves_a_group_from_the_users_side(self):
        with self.committed():
            self.bruce.groups.add(self.fleet)
        self.assertPushed(self.bruce, groups=["Fleet Commanders"])
        with self.committed():
            self.bruce.groups.remove(self.fleet)
        self.assertPushed(self.bruce, groups=[])
        self.bruce.groups.add(self.fleet)
        with self.committed():
            self.bruce.groups.clear()
        self.assertPushed(self.bruce, groups=[])

    def test_row_user_joins_or_leaves_a_group_from_the_groups_side(self):
        with self.committed():
            self.fleet.user_set.add(self.bruce, self.clark)
        self.assertEqual(len(self.warden.calls("PUT", "/api/users")), 1, "two users: one batch")
        self.assertPushed(self.bruce, groups=["Fleet Commanders"])
        self.assertPushed(self.clark, groups=["Fleet Commanders"])
        with self.committed():
            self.fleet.user_set.remove(self.clark)
        self.assertPushed(self.clark, groups=[])

    def test_row_group_user_set_clear_fails_in_alliance_auth_and_is_rolled_back(self):
        """Alliance Auth's own receiver iterates the pk_set Django passes as None for a clear from the
        group's side: TypeError, and Django rolls the clear back. warden_sync cannot fix Auth; the
        README documents it (remove members one by one, or from the user's side)."""
        self.fleet.user_set.add(self.bruce, self.clark)
        self.settle()
        with self.assertRaises(TypeError), self.committed():
            with transaction.atomic():
                self.fleet.user_set.clear()
        self.assertEqual(set(self.fleet.user_set.values_list("username", flat=True)),
                         {"bruce_wayne", "clark_kent"}, "the clear was rolled back")
        self.assertEqual(self.warden.calls("PUT"), [], "nothing changed, nothing is pushed")
        self.assertFalse(OutboxEntry.objects.exists())

    def test_row_state_changes(self):
        blue = State.objects.create(name="Allies", priority=60)
        with self.committed():
            self.bruce.profile.assign_state(state=blue)
        self.assertPushed(self.bruce, state="Allies", can_access_discord=False)

    def test_row_main_character_changes(self):
        alfred = make_character("Alfred Pennyworth")
        self.settle()
        with self.committed():
            profile = self.bruce.profile
            profile.main_character = alfred
            profile.save()
        record = self.assertPushed(self.bruce)
        self.assertEqual(record["main_character"]["character_name"], "Alfred Pennyworth")

    def test_row_main_characters_name_corporation_or_alliance_changes(self):
        main = self.bruce.profile.main_character
        with self.committed():
            main.corporation_id, main.corporation_name, main.corporation_ticker = 98000002, "Wayne Tech", "WTC"
            main.save()
        self.assertEqual(self.warden.last_record(self.bruce.pk)["main_character"]["corporation_ticker"], "WTC")
        with self.committed():
            main.alliance_id, main.alliance_name, main.alliance_ticker = 99000001, "Justice League", "JL"
            main.save()
        record = self.warden.last_record(self.bruce.pk)["main_character"]
        self.assertEqual((record["alliance_id"], record["alliance_ticker"]), (99000001, "JL"))
        with self.committed():
            main.character_name = "Batman"
            main.save()
        self.assertEqual(self.warden.last_record(self.bruce.pk)["main_character"]["character_name"], "Batman")

    def test_row_an_alts_change_or_a_login_sends_nothing(self):
        alt = make_character("Some Alt")
        self.settle()
        with self.committed():
            alt.corporation_name = "Elsewhere"
            alt.save()
            self.bruce.last_login = self.bruce.date_joined
            self.bruce.save(update_fields=["last_login"])
        self.assertEqual(self.warden.calls(), [])

    def test_row_user_deactivated(self):
        with self.committed():
            self.bruce.is_active = False
            self.bruce.save()
        self.assertPushed(self.bruce, active=False, can_access_discord=False)

    def test_row_user_renamed(self):
        with self.committed():
            self.bruce.username = "batman"
            self.bruce.save()
        self.assertPushed(self.bruce, username="batman")

    def test_row_user_created(self):
        with self.committed():
            diana = User.objects.create_user("diana_prince")
        self.assertPushed(diana, state="Guest", can_access_discord=False, main_character=None)

    def test_row_user_deleted(self):
        self.warden.users[self.bruce.pk] = {"id": self.bruce.pk}
        user_id = self.bruce.pk
        with self.committed():
            self.bruce.delete()
        self.assertEqual([str(r) for r in self.warden.calls("DELETE")], [f"DELETE /api/users/{user_id}"])
        self.assertNotIn(user_id, self.warden.users)

    def test_row_group_renamed(self):
        self.fleet.user_set.add(self.bruce, self.clark)
        self.settle()
        with self.committed():
            self.fleet.name = "Fleet Command"
            self.fleet.save()
        self.assertPushed(self.bruce, groups=["Fleet Command"])
        self.assertPushed(self.clark, groups=["Fleet Command"])

    def test_row_group_deleted(self):
        self.fleet.user_set.add(self.bruce)
        self.settle()
        with self.committed():
            self.fleet.delete()
        self.assertPushed(self.bruce, groups=[])

    def test_row_permission_on_the_user(self):
        guest = User.objects.create_user("guest_user")
        self.settle()
        with self.committed():
            guest.user_permissions.add(access_permission())
        self.assertPushed(guest, can_access_discord=True)
        with self.committed():
            guest.user_permissions.remove(access_permission())
        self.assertPushed(guest, can_access_discord=False)

    def test_row_permission_on_a_group(self):
        guests = [User.objects.create_user(f"guest{i}") for i in range(3)]
        pilots = Group.objects.create(name="Pilots")
        pilots.user_set.add(*guests)
        self.settle()
        with self.committed():
            pilots.permissions.add(access_permission())
        self.assertEqual(len(self.warden.calls("PUT")), 1, "three users: one batch")
        for guest in guests:
            self.assertPushed(guest, can_access_discord=True)
        with self.committed():
            pilots.permissions.remove(access_permission())
        for guest in guests:
            self.assertPushed(guest, can_access_discord=False)

    def test_row_permission_on_a_state(self):
        with self.committed():
            member_state().permissions.remove(access_permission())
        self.assertPushed(self.bruce, can_access_discord=False)
        self.assertPushed(self.clark, can_access_discord=False)

    def test_row_permission_changed_from_the_permissions_side(self):
        guest = User.objects.create_user("guest_user")
        pilots = Group.objects.create(name="Pilots")
        pilots.user_set.add(guest)
        self.settle()
        with self.committed():
            access_permission().user_set.add(guest)
        self.assertPushed(guest, can_access_discord=True)
        with self.committed():
            access_permission().user_set.clear()
        self.assertPushed(guest, can_access_discord=False)
        with self.committed():
            access_permission().group_set.add(pilots)
        self.assertPushed(guest, can_access_discord=True)
        # (perm.state_set.remove/clear fail in Alliance Auth's own receiver, which takes the
        # permission for a state; a state's permissions are changed from the state's side.)

    def test_an_unrelated_permission_sends_nothing(self):
        from django.contrib.auth.models import Permission
        other = Permission.objects.get(content_type__app_label="auth", codename="add_group")
        with self.committed():
            self.bruce.user_permissions.add(other)
            self.fleet.permissions.add(other)
        self.assertEqual(self.warden.calls(), [])

    def test_row_reserved_group_names(self):
        with self.committed():
            ReservedGroupName.objects.create(name="leadership", reason="hand-kept", created_by="admin")
        self.assertEqual(self.warden.reserved, ["leadership"])
        with self.committed():
            ReservedGroupName.objects.all().delete()
        self.assertEqual(self.warden.reserved, [])

    def test_many_changes_in_one_transaction_are_one_push(self):
        blue = State.objects.create(name="Allies", priority=60)
        blue.permissions.add(access_permission())
        self.settle()
        with self.committed():
            with transaction.atomic():
                self.bruce.groups.add(self.fleet)
                self.bruce.profile.assign_state(state=blue)
                self.bruce.username = "batman"
                self.bruce.save()
        self.assertEqual(len(self.warden.calls("PUT")), 1)
        self.assertPushed(self.bruce, username="batman", state="Allies", groups=["Fleet Commanders"],
                          can_access_discord=True)

    def test_a_rolled_back_change_sends_nothing(self):
        with self.committed():
            try:
                with transaction.atomic():
                    self.bruce.groups.add(self.fleet)
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
        self.assertEqual(self.warden.calls(), [])
        self.assertFalse(OutboxEntry.objects.exists())
