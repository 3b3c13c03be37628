"""The outbox: what Warden has not been told yet, kept in Auth's database until Warden has it.

A receiver (signals.py) notes the users whose record changed by writing OutboxEntry rows in the same
database transaction as the change, and asks for a drain once that transaction commits. The drain
(`drain`, run by the Celery task `warden_sync.tasks.drain_outbox`) reads the users fresh, sends them
in batches (`PUT /api/users`), sends `DELETE /api/users/{id}` for users gone from Auth, and removes
what Warden accepted. While Warden is down nothing is lost: the rows stay, every row waits for
`next_try_at` (15 s, 30 s, 1 min, ... at most WARDEN_RETRY_MAX_DELAY), and any drain after that,
the Celery beat entry or the next change, sends them all.

A web request never waits for retries: a drain tries each request once with WARDEN_PAGE_TIMEOUT when
Celery runs eagerly (inside the web request), and never while an earlier failure's wait is running.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from . import app_settings, sync
from .client import WardenRejected, WardenUnavailable
from .models import OutboxEntry

logger = logging.getLogger(__name__)

LOCK_KEY = "warden_sync:drain-lock"
LOCK_SECONDS = 300


# --- writing ------------------------------------------------------------------------------------

def enqueue_users(user_ids):
    """Push these users' records (or their deletion) once the current transaction commits."""
    keys = {int(user_id) for user_id in user_ids if user_id}
    if keys:
        _enqueue(OutboxEntry.KIND_USER, keys)


def enqueue_reserved_names():
    _enqueue(OutboxEntry.KIND_RESERVED_NAMES, {0})


def _enqueue(kind, keys):
    if not app_settings.sync_enabled():
        return
    now = timezone.now()
    rows = [OutboxEntry(kind=kind, key=key, token=uuid.uuid4(), queued_at=now) for key in sorted(keys)]
    options = {"update_conflicts": True, "update_fields": ["token", "queued_at"]}
    if connection.features.supports_update_conflicts_with_target:
        options["unique_fields"] = ["kind", "key"]
    OutboxEntry.objects.bulk_create(rows, **options)
    _drain_after_commit()


def _drain_after_commit():
    """Several changes in one transaction ask for several drains; the first sends everything and
    the others find nothing to do (one query each)."""
    from .tasks import request_drain

    transaction.on_commit(request_drain)


# --- draining -----------------------------------------------------------------------------------

@dataclass
class DrainResult:
    sent: int = 0            # entries Warden accepted (or refused for good, see below)
    failed: int = 0          # entries kept for a later try
    retry_at: datetime.datetime | None = None  # when the kept entries are due
    locked: bool = False     # another drain was running


def backoff(attempts):
    """Seconds to wait after the `attempts`-th failed try: 15, 30, 60, ... at most the maximum."""
    return min(app_settings.retry_max_delay(), 15 * 2 ** max(0, attempts - 1))


def blocked_until(now=None):
    """The end of the current wait after a failure, or None when entries may be sent now."""
    now = now or timezone.now()
    return OutboxEntry.objects.filter(next_try_at__gt=now).aggregate(until=Max("next_try_at"))["until"]


def drain(client, max_rounds=None):
    """Sends every due entry, batch by batch. Never retries inline: a failed batch stays in the
    outbox with its next try time and the drain stops there."""
    if not _lock():
        return DrainResult(locked=True)
    try:
        result = _drain_locked(client, max_rounds)
    finally:
        _unlock()
    # A change that committed while the lock was held found it taken: look once more.
    if result.retry_at is None and _due_exists() and _lock():
        try:
            more = _drain_locked(client, max_rounds)
        finally:
            _unlock()
        result.sent += more.sent
        result.failed += more.failed
        result.retry_at = more.retry_at
    return result


def _lock():
    """One drain at a time (two would only send the same records twice). Without a working cache
    the drain runs unlocked: a duplicate push is harmless, a lost one is not."""
    try:
        return cache.add(LOCK_KEY, "1", LOCK_SECONDS)
    except Exception:
        logger.warning("warden: the cache is unavailable; draining the outbox without a lock")
        return True


def _unlock():
    try:
        cache.delete(LOCK_KEY)
    except Exception:
        pass


def _due_exists():
    return OutboxEntry.objects.exists() and blocked_until() is None


def _drain_locked(client, max_rounds):
    result = DrainResult()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
        now = timezone.now()
        waiting = blocked_until(now)
        if waiting is not None:
            result.retry_at = waiting
            return result
        entries = list(OutboxEntry.objects.order_by("queued_at", "pk")[: app_settings.batch_size()])
        if not entries:
            return result
        try:
            _send(client, entries)
        except (WardenUnavailable, WardenRejected) as error:
            # Unreachable, or a refusal of the whole request (401: the admin token differs from
            # Warden's): keep everything and try again later. A refused record is handled in _send.
            result.failed += len(entries)
            result.retry_at = _postpone(entries, error, now)
            logger.warning("warden: %d change(s) not sent (%s); next try at %s",
                           len(entries), error, result.retry_at.isoformat())
            return result
        _remove_sent(entries)
        result.sent += len(entries)
    return result


def _send(client, entries):
    users = [entry.key for entry in entries if entry.kind == OutboxEntry.KIND_USER]
    if users:
        records, gone = sync.records_of(users)
        refused = sync.put_records(client, records)
        if refused:
            logger.error("warden: Warden refused the records of users %s; see the errors above", refused)
        for user_id in gone:
            client.delete_user(user_id)
            logger.info("warden: user %s is gone from Auth; deleted in Warden", user_id)
    if any(entry.kind == OutboxEntry.KIND_RESERVED_NAMES for entry in entries):
        sync.push_reserved_group_names(client)


def _postpone(entries, error, now):
    attempts = max(entry.attempts for entry in entries) + 1
    retry_at = now + datetime.timedelta(seconds=backoff(attempts))
    OutboxEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
        attempts=F("attempts") + 1, next_try_at=retry_at, last_error=str(error)[:500]
    )
    return retry_at


def _remove_sent(entries):
    """Removes what was sent, unless a newer change rewrote the row meanwhile (its token differs)."""
    for start in range(0, len(entries), 100):
        chunk = entries[start:start + 100]
        OutboxEntry.objects.filter(reduce(or_, (Q(pk=e.pk, token=e.token) for e in chunk))).delete()


def pending_summary():
    """For the status page: how many changes wait, since when, and why."""
    entries = OutboxEntry.objects.all()
    first = entries.order_by("queued_at").first()
    failing = entries.filter(attempts__gt=0).order_by("-attempts").first()
    return {
        "count": entries.count(),
        "oldest": first.queued_at if first else None,
        "attempts": failing.attempts if failing else 0,
        "last_error": failing.last_error if failing else "",
        "retry_at": blocked_until(),
    }
