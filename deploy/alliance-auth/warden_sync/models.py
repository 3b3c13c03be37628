"""warden_sync's models: the access permission, the outbox of pending pushes, the migrated links."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class General(models.Model):
    """Holds the app's permission; no table (the Alliance Auth convention for app permissions)."""

    class Meta:
        managed = False
        default_permissions = ()
        # warden_sync.access_discord (SPEC 8): Warden's `can_access_discord`.
        permissions = (("access_discord", _("Can access the Discord service")),)


class OutboxEntry(models.Model):
    """Something Warden has not been told yet. Written in the same transaction as the change it
    describes, so it exists exactly when the change committed, and it survives a Warden outage and a
    worker restart; `tasks.drain_outbox` sends and removes it.

    kind "user": push the user's current record (or DELETE it when the user is gone from Auth);
    kind "reserved_names": push the reserved group names (key 0).
    Each (kind, key) is one row; a new change rewrites `token`, so a drain that read the row before
    that change does not remove it (the newer change still goes out)."""

    KIND_USER = "user"
    KIND_RESERVED_NAMES = "reserved_names"
    KINDS = ((KIND_USER, "user"), (KIND_RESERVED_NAMES, "reserved group names"))

    kind = models.CharField(max_length=16, choices=KINDS)
    key = models.BigIntegerField(help_text="the Auth user id for kind 'user', 0 otherwise")
    token = models.UUIDField(default=uuid.uuid4)
    queued_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True, help_text="null: due now")
    last_error = models.TextField(blank=True, default="")

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="warden_sync_outbox_kind_key")]
        indexes = [models.Index(fields=["next_try_at"], name="warden_sync_outbox_next_try")]

    def __str__(self):
        return f"{self.kind} {self.key}"


class MigratedLink(models.Model):
    """A link read from Alliance Auth's Discord service (its `discord_discorduser` table) and handed
    to Warden once. Never imported a second time, so a link Warden removed later (a kick, a
    deactivation) is never brought back from the old table."""

    OUTCOME_IMPORTED = "imported"
    OUTCOME_REFUSED = "refused"
    OUTCOME_DUPLICATE = "duplicate"
    OUTCOMES = (
        (OUTCOME_IMPORTED, "imported into Warden"),
        (OUTCOME_REFUSED, "refused by Warden"),
        (OUTCOME_DUPLICATE, "the Discord account is linked to another Auth user"),
    )

    user_id = models.BigIntegerField(unique=True)
    uid = models.BigIntegerField()
    outcome = models.CharField(max_length=16, choices=OUTCOMES)
    detail = models.TextField(blank=True, default="")
    migrated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"user {self.user_id} -> {self.uid} ({self.outcome})"
