"""Tells Warden whenever something that shapes a user's record changes in Alliance Auth.

Each receiver only notes *which* users changed, as outbox rows written in the same transaction as
the change (outbox.py). Once that transaction commits, one drain reads the users fresh and sends
their committed records in one batch, so many changes to one user in one request (groups, state,
main character) become one push, and a rolled-back change sends nothing.
A push is idempotent: Warden writes to Discord only what differs.

Receivers (what changes a record -> who is pushed):
  User.groups m2m (either side, clear() too) -> the users added / removed / cleared
  state_changed                              -> that user
  UserProfile main character or state        -> that user
  EveCharacter name / corporation / alliance -> the user whose main it is (nickname)
  User is_active / username; profile created -> that user
  User pre_delete                            -> that user (the drain finds them gone: DELETE)
  Group renamed or deleted                   -> its members
  warden_sync.access_discord on a user, group or state (either side) -> the users concerned
  ReservedGroupName saved / deleted          -> PUT /api/reserved-group-names
"""

import logging

from django.contrib.auth.models import Group, Permission, User
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from allianceauth.authentication.models import State, UserProfile
from allianceauth.authentication.signals import state_changed
from allianceauth.eveonline.models import EveCharacter
from allianceauth.groupmanagement.models import ReservedGroupName

from . import app_settings
from .outbox import enqueue_reserved_names, enqueue_users

logger = logging.getLogger(__name__)


def schedule_push(user_ids):
    enqueue_users(user_ids)


def _group_member_ids(group_ids):
    return User.objects.filter(groups__in=list(group_ids)).values_list("pk", flat=True).distinct()


def _state_member_ids(state_ids):
    return UserProfile.objects.filter(state__in=list(state_ids)).values_list("user_id", flat=True)


def _is_access_permission(permission_ids):
    """True when the set holds the access permission; None (a clear) may hold anything."""
    if permission_ids is None:
        return True
    app_label, _, codename = app_settings.ACCESS_PERMISSION.partition(".")
    return Permission.objects.filter(
        pk__in=list(permission_ids), content_type__app_label=app_label, codename=codename
    ).exists()


# --- group membership ---------------------------------------------------------------------------

@receiver(m2m_changed, sender=User.groups.through)
def user_groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # user.groups.add/remove/clear(...): one user
        if action in ("post_add", "post_remove", "post_clear"):
            schedule_push([instance.pk])
        return
    # group.user_set.add/remove/clear(...): pk_set holds user ids; a clear gives none, so note the
    # members before it.
    if action in ("post_add", "post_remove"):
        schedule_push(pk_set or ())
    elif action == "pre_clear":
        instance._warden_cleared_users = list(instance.user_set.values_list("pk", flat=True))
    elif action == "post_clear":
        schedule_push(getattr(instance, "_warden_cleared_users", ()))


# --- state and main character -------------------------------------------------------------------

@receiver(state_changed)
def user_state_changed(sender, user, state, **kwargs):
    schedule_push([user.pk])


@receiver(pre_save, sender=UserProfile)
def profile_before_save(sender, instance, raw=False, **kwargs):
    if raw or not instance.pk:
        return
    old = (
        UserProfile.objects.filter(pk=instance.pk)
        .values_list("main_character_id", "state_id")
        .first()
    )
    instance._warden_changed = old != (instance.main_character_id, instance.state_id)


@receiver(post_save, sender=UserProfile)
def profile_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    if created or getattr(instance, "_warden_changed", False):
        schedule_push([instance.user_id])


_NICKNAME_FIELDS = (
    "character_name", "corporation_id", "corporation_name", "corporation_ticker",
    "alliance_id", "alliance_name", "alliance_ticker",
)


@receiver(pre_save, sender=EveCharacter)
def character_before_save(sender, instance, raw=False, **kwargs):
    if raw or not instance.pk:
        return
    old = EveCharacter.objects.filter(pk=instance.pk).values_list(*_NICKNAME_FIELDS).first()
    instance._warden_changed = old != tuple(getattr(instance, field) for field in _NICKNAME_FIELDS)


@receiver(post_save, sender=EveCharacter)
def character_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created or not getattr(instance, "_warden_changed", False):
        return
    # Only a main character shapes a record (the nickname); affiliation updates of alts are noise.
    schedule_push(
        UserProfile.objects.filter(main_character_id=instance.pk).values_list("user_id", flat=True)
    )


# --- the user itself ----------------------------------------------------------------------------

@receiver(pre_save, sender=User)
def user_before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or not instance.pk:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        instance._warden_changed = False  # a login: nothing Warden sees
        return
    old = User.objects.filter(pk=instance.pk).values_list("is_active", "username").first()
    instance._warden_changed = old != (instance.is_active, instance.username)


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, raw=False, **kwargs):
    # A new user is pushed when Alliance Auth creates its profile (profile_saved), right after.
    if not raw and not created and getattr(instance, "_warden_changed", False):
        schedule_push([instance.pk])


@receiver(pre_delete, sender=User)
def user_deleted(sender, instance, **kwargs):
    # In the delete's transaction; the drain then finds the user gone and sends DELETE.
    schedule_push([instance.pk])


# --- groups -------------------------------------------------------------------------------------

@receiver(pre_save, sender=Group)
def group_before_save(sender, instance, raw=False, **kwargs):
    if raw or not instance.pk:
        return
    old_name = Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
    instance._warden_renamed = old_name is not None and old_name != instance.name


@receiver(post_save, sender=Group)
def group_saved(sender, instance, created, raw=False, **kwargs):
    if not raw and getattr(instance, "_warden_renamed", False):
        schedule_push(_group_member_ids([instance.pk]))


@receiver(pre_delete, sender=Group)
def group_deleted(sender, instance, **kwargs):
    # The members lose the group (and its role) once the delete commits.
    schedule_push(list(_group_member_ids([instance.pk])))


# --- the access permission (can_access_discord) -------------------------------------------------
# Either side: user.user_permissions.add(perm) (pk_set = permissions) or perm.user_set.add(user)
# (pk_set = users); the same for groups and states. A clear from the permission's side gives no
# pk_set, so the holders are noted before it (pre_clear).

_PERMISSION_ACTIONS = ("post_add", "post_remove", "post_clear")


def _permission_changed(instance, action, reverse, pk_set, users_of):
    """users_of(ids of users/groups/states) -> the user ids concerned."""
    if not reverse:  # a user / group / state gained or lost permissions
        if action in _PERMISSION_ACTIONS and _is_access_permission(pk_set):
            schedule_push(list(users_of([instance.pk])))
        return
    if not _is_access_permission([instance.pk]):  # the permission's side: only ours matters
        return
    if action == "pre_clear":
        instance._warden_cleared_users = list(users_of(None))
    elif action == "post_clear":
        schedule_push(getattr(instance, "_warden_cleared_users", ()))
    elif action in ("post_add", "post_remove") and pk_set:
        schedule_push(list(users_of(pk_set)))


@receiver(m2m_changed, sender=User.user_permissions.through)
def user_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    def users_of(ids):
        if ids is None:  # the holders of the permission, before a clear from its side
            return User.objects.filter(user_permissions=instance).values_list("pk", flat=True)
        return ids
    _permission_changed(instance, action, reverse, pk_set, users_of)


@receiver(m2m_changed, sender=Group.permissions.through)
def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    def users_of(ids):
        if ids is None:
            ids = Group.objects.filter(permissions=instance).values_list("pk", flat=True)
        return _group_member_ids(ids)
    _permission_changed(instance, action, reverse, pk_set, users_of)


@receiver(m2m_changed, sender=State.permissions.through)
def state_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    def users_of(ids):
        if ids is None:
            ids = State.objects.filter(permissions=instance).values_list("pk", flat=True)
        return _state_member_ids(ids)
    _permission_changed(instance, action, reverse, pk_set, users_of)


# --- reserved group names -----------------------------------------------------------------------

@receiver(post_save, sender=ReservedGroupName)
@receiver(post_delete, sender=ReservedGroupName)
def reserved_group_names_changed(sender, raw=False, **kwargs):
    if not raw:
        enqueue_reserved_names()
