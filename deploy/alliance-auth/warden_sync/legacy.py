"""Alliance Auth's own Discord service, read straight from its table (`discord_discorduser`), so it
works after `allianceauth.services.modules.discord` has left INSTALLED_APPS (its model is gone then,
its table and rows are not).

Links are handed to Warden once (MigratedLink remembers each), so a link Warden has removed since
(a kick, a deactivation) is never brought back from this table.
"""

import logging
from dataclasses import dataclass

from django.db import connection, transaction

from .client import WardenRejected
from .models import MigratedLink
from .records import load_users, user_record

logger = logging.getLogger(__name__)

TABLE = "discord_discorduser"


@dataclass
class OldLink:
    user_id: int
    uid: int
    username: str
    activated: object


def table_exists():
    return TABLE in connection.introspection.table_names()


def old_links():
    """Every row of the old table, the most recently activated first."""
    if not table_exists():
        return []
    quoted = connection.ops.quote_name(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT user_id, uid, username, activated FROM {quoted} "
                       "ORDER BY activated IS NULL, activated DESC, user_id")
        return [OldLink(int(u), int(uid), name or "", activated) for u, uid, name, activated in cursor.fetchall()]


def links_to_import(rows):
    """(links Warden should get: user id -> uid, duplicates: [(OldLink, kept user id)]).
    Skips links handed over before; of a Discord account linked to several users (Alliance Auth
    allows it, Warden does not) only the most recently activated link is kept."""
    done = set(MigratedLink.objects.values_list("user_id", flat=True))
    owner = {}
    duplicates = []
    for row in rows:
        if row.user_id in done:
            continue
        if row.uid in owner:
            duplicates.append((row, owner[row.uid]))
            continue
        owner[row.uid] = row.user_id
    return {user_id: uid for uid, user_id in owner.items()}, duplicates


def import_links(client, links, batch_size, report):
    """Sends each linked user's record with "discord": {"uid": ...} and remembers the outcome.
    Raises WardenUnavailable (nothing of the failed batch is remembered: run again later)."""
    ids = sorted(links)
    imported = refused = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        users = load_users(chunk)
        records = []
        for user_id in chunk:
            if user_id in users:
                record = user_record(users[user_id])
                record["discord"] = {"uid": str(links[user_id])}
                records.append(record)
        outcomes = _send(client, records)
        with transaction.atomic():
            for record in records:
                error = outcomes.get(record["id"])
                MigratedLink.objects.update_or_create(
                    user_id=record["id"],
                    defaults={"uid": int(record["discord"]["uid"]),
                              "outcome": MigratedLink.OUTCOME_REFUSED if error else MigratedLink.OUTCOME_IMPORTED,
                              "detail": error or ""})
                if error:
                    refused += 1
                    report(f"user {record['id']} (Discord {record['discord']['uid']}): refused by Warden: {error}")
                else:
                    imported += 1
    return imported, refused


def _send(client, records):
    """user id -> Warden's refusal text, for the refused ones."""
    if not records:
        return {}
    try:
        client.put_users(records)
        return {}
    except WardenRejected as error:
        if error.status != 400:
            raise
    outcomes = {}
    for record in records:
        try:
            client.put_user(record)
        except WardenRejected as error:
            if error.status != 400:
                raise
            outcomes[record["id"]] = error.error
    return outcomes


def remember_duplicates(duplicates, report):
    for row, kept in duplicates:
        MigratedLink.objects.update_or_create(
            user_id=row.user_id,
            defaults={"uid": row.uid, "outcome": MigratedLink.OUTCOME_DUPLICATE,
                      "detail": f"Discord account {row.uid} kept for user {kept}"})
        report(f"user {row.user_id}: Discord account {row.uid} is also linked to user {kept}; "
               f"kept the link of user {kept} (the most recently activated)")


def empty_table():
    """Deletes every row of the old table, so deleting an Auth user no longer trips over its
    foreign key. Returns the number of rows deleted."""
    if not table_exists():
        return 0
    quoted = connection.ops.quote_name(TABLE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quoted}")
        return cursor.rowcount
