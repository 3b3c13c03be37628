"""Alliance Auth's user as Warden's user record (SPEC 1.1).

{"id": 42, "username": "bruce_wayne", "active": true, "state": "Member",
 "groups": ["Fleet Commanders", "Corp_WYE"], "can_access_discord": true,
 "main_character": {"character_id": 95465499, "character_name": "Bruce Wayne",
   "corporation_id": 98000001, "corporation_name": "Wayne Enterprises", "corporation_ticker": "WYE",
   "alliance_id": 99000001, "alliance_name": "Justice League", "alliance_ticker": "JL"}}

The record never carries "discord": links are made by Warden's OAuth flow (or imported once by
`manage.py warden_migrate_from_discord`), so a push never changes a link.
"""

from django.contrib.auth.models import User

from allianceauth.authentication.models import get_guest_state

from . import app_settings


def load_users(user_ids):
    """The users with these ids, fresh from the database (no cached permissions), by id."""
    users = (
        User.objects.filter(pk__in=list(user_ids))
        .select_related("profile", "profile__state", "profile__main_character")
        .prefetch_related("groups")
    )
    return {user.pk: user for user in users}


def user_record(user):
    """The SPEC 1.1 record of one user. `user` should be freshly loaded: Django caches a user's
    permissions on the object, and `can_access_discord` must reflect the database now."""
    profile = getattr(user, "profile", None)
    state = profile.state if profile is not None and profile.state_id else get_guest_state()
    main = profile.main_character if profile is not None else None
    return {
        "id": user.pk,
        "username": user.username,
        "active": bool(user.is_active),
        "state": state.name,
        # Alliance Auth gives a service every group of the user (internal and auto groups too).
        "groups": sorted(group.name for group in user.groups.all()),
        # warden_sync.access_discord, resolved by Auth from the user's, its groups' and its state's
        # permissions (StateBackend); False for an inactive user, True for an active superuser.
        "can_access_discord": bool(user.has_perm(app_settings.ACCESS_PERMISSION)),
        "main_character": main_character(main) if main is not None else None,
    }


def main_character(character):
    """An EveCharacter as the record's main_character; an empty alliance becomes null."""
    return {
        "character_id": int(character.character_id),
        "character_name": character.character_name,
        "corporation_id": int(character.corporation_id),
        "corporation_name": character.corporation_name or "",
        "corporation_ticker": character.corporation_ticker or "",
        "alliance_id": int(character.alliance_id) if character.alliance_id else None,
        "alliance_name": character.alliance_name or None,
        "alliance_ticker": character.alliance_ticker or None,
    }
