"""What a push does, shared by the Celery tasks, the views and `manage.py warden_push_all`."""

import logging

from .client import WardenRejected, get_client
from .records import load_users, user_record
from . import app_settings

logger = logging.getLogger(__name__)


def push_users(user_ids, client=None):
    """Sends the current record of each user; a user no longer in Auth's database is deleted in
    Warden (so a push that arrives after the user's deletion still ends right).

    Raises WardenUnavailable when Warden cannot be reached (the caller retries later)."""
    client = client or get_client()
    ids = sorted({int(user_id) for user_id in user_ids})
    users = load_users(ids)
    records = [user_record(users[user_id]) for user_id in ids if user_id in users]
    for start in range(0, len(records), app_settings.WARDEN_BATCH_SIZE):
        put_records(client, records[start:start + app_settings.WARDEN_BATCH_SIZE])
    for user_id in ids:
        if user_id not in users:
            client.delete_user(user_id)
            logger.info("warden: user %s is gone from Auth; deleted in Warden", user_id)
    return len(records)


def put_records(client, records):
    """PUT the records in one request; if Warden refuses the batch (400), one by one."""
    if len(records) == 1:
        _put_one(client, records[0])
        return
    try:
        client.put_users(records)
    except WardenRejected as error:
        if error.status != 400:
            raise
        # One bad record refuses the whole batch (it is one transaction): send them one by one
        # so the others land and the bad one is named in the log.
        logger.warning("warden: a batch of %d records was refused (%s); sending one by one",
                       len(records), error.error)
        for record in records:
            _put_one(client, record)


def _put_one(client, record):
    try:
        client.put_user(record)
    except WardenRejected as error:
        if error.status != 400:
            raise
        logger.error("warden: the record of user %s was refused: %s", record["id"], error.error)


def delete_user(user_id, client=None):
    """The user was deleted in Auth: Warden kicks, unlinks and forgets them."""
    (client or get_client()).delete_user(user_id)


def push_reserved_group_names(client=None):
    """Sends Auth's reserved group names (Group Management > Reserved group names)."""
    from allianceauth.groupmanagement.models import ReservedGroupName

    names = list(ReservedGroupName.objects.values_list("name", flat=True))
    (client or get_client()).put_reserved_group_names(names)
    return len(names)
