"""Tells Warden whenever something that shapes a user's record changes in Alliance Auth.

Each receiver only notes *which* users changed. The push itself runs after the database transaction
commits (transaction.on_commit) and reads the users fresh, so it always sends the committed state,
and many changes to one user in one request (groups, state, main character) become one push.
A push is idempotent: Warden writes to Discord only what differs.

Receivers (what changes a record -> who is pushed):
  User.groups m2m (either side)              -> the users added / removed / cleared
  state_changed                              -> that user
  UserProfile main character or state        -> that user
  EveCharacter name / corporation / alliance -> the user whose main it is (nickname)
  User is_active / username; profile created -> that user
  User pre_delete                            -> DELETE /api/users/{id}
  Group renamed or deleted                   -> its members
  access permission on a user, group, state  -> the users concerned (can_access_discord)
  ReservedGroupName saved / deleted          -> PUT /api/reserved-group-names
"""

import logging
import threading
from functools import partial

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from allianceauth.authentication.models import State, UserProfile
from allianceauth.authentication.signals import state_changed
from allianceauth.eveonline.models import EveCharacter
from allianceauth.groupmanagement.models import ReservedGroupName

from . import app_settings, sync, tasks
from .client import WardenError

logger = logging.getLogger(__name__)

# --- scheduling ---------------------------------------------------------------------------------

_pending = threading.local()


def schedule_push(user_ids):
    """Push these users once the current transaction commits (at once outside a transaction).

    Ids are collected per thread; every receiver registers a flush and the first flush after the
    commit takes them all, the others find nothing. Ids left by a rolled-back transaction go out
    with the next commit's flush: one harmless extra push of the then-current record."""
    ids = {int(user_id) for user_id in user_ids if user_id}
    if not ids or not app_settings.WARDEN_SYNC_ENABLED:
        return
    if not hasattr(_pending, "ids"):
        _pending.ids = set()
    _pending.ids |= ids  # before on_commit: outside a transaction it runs the flush right away
    transaction.on_commit(_flush)


def _flush():
    ids = getattr(_pending, "ids", set())
    _pending.ids = set()
    if not ids:
        return
    ids = sorted(ids)
    if app_settings.WARDEN_SYNC_ASYNC:
        size = app_settings.WARDEN_BATCH_SIZE
        for start in range(0, len(ids), size):
            tasks.push_users.delay(ids[start:start + size])
        return
    try:
        sync.push_users(ids)
    except WardenError as error:
        logger.error("warden: push of users %s failed: %s", ids, error)


def schedule_delete(user_id):
    if not app_settings.WARDEN_SYNC_ENABLED:
        return
    if app_settings.WARDEN_SYNC_ASYNC:
        transaction.on_commit(partial(tasks.delete_user.delay, int(user_id)))
    else:
        transaction.on_commit(partial(_delete_inline, int(user_id)))


def _delete_inline(user_id):
    try:
        sync.delete_user(user_id)
    except WardenError as error:
        logger.error("warden: delete of user %s failed: %s", user_id, error)


def schedule_reserved_names():
    if not app_settings.WARDEN_SYNC_ENABLED:
        return
    if app_settings.WARDEN_SYNC_ASYNC:
        transaction.on_commit(tasks.push_reserved_group_names.delay)
    else:
        transaction.on_commit(sync.push_reserved_group_names)


def _group_member_ids(group_ids):
    return User.objects.filter(groups__in=list(group_ids)).values_list("pk", flat=True).distinct()


def _state_member_ids(state_ids):
    return UserProfile.objects.filter(state__in=list(state_ids)).values_list("user_id", flat=True)


def _is_access_permission(permission_ids):
    """True when the set holds the access permission; None (a clear) may hold anything."""
    if permission_ids is None:
        return True
    app_label, _, codename = app_settings.WARDEN_ACCESS_PERMISSION.partition(".")
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
    schedule_delete(instance.pk)


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

_PERMISSION_ACTIONS = ("post_add", "post_remove", "post_clear")


@receiver(m2m_changed, sender=User.user_permissions.through)
def user_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _PERMISSION_ACTIONS:
        return
    if not reverse:
        if _is_access_permission(pk_set):
            schedule_push([instance.pk])
    elif _is_access_permission([instance.pk]):  # permission.user_set.add(...): pk_set = users
        schedule_push(pk_set or ())


@receiver(m2m_changed, sender=Group.permissions.through)
def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _PERMISSION_ACTIONS:
        return
    if not reverse:
        if _is_access_permission(pk_set):
            schedule_push(list(_group_member_ids([instance.pk])))
    elif _is_access_permission([instance.pk]) and pk_set:  # permission.group_set.add(...)
        schedule_push(list(_group_member_ids(pk_set)))


@receiver(m2m_changed, sender=State.permissions.through)
def state_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in _PERMISSION_ACTIONS:
        return
    if not reverse:
        if _is_access_permission(pk_set):
            schedule_push(list(_state_member_ids([instance.pk])))
    elif _is_access_permission([instance.pk]) and pk_set:  # permission.state_set.add(...)
        schedule_push(list(_state_member_ids(pk_set)))


# --- reserved group names -----------------------------------------------------------------------

@receiver(post_save, sender=ReservedGroupName)
@receiver(post_delete, sender=ReservedGroupName)
def reserved_group_names_changed(sender, raw=False, **kwargs):
    if not raw:
        schedule_reserved_names()
