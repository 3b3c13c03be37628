"""What a push sends, shared by the outbox drain and the management commands."""

import logging

from .client import WardenRejected
from .records import load_users, user_record

logger = logging.getLogger(__name__)


def put_records(client, records):
    """Sends records: one record as PUT /api/users/{id} (Warden enforces that user at once), several
    in one PUT /api/users (one transaction). Returns the ids Warden refused (400), each named in the
    log: a refused batch is resent record by record so only the bad one is left out."""
    if not records:
        return []
    if len(records) == 1:
        return _put_one(client, records[0])
    try:
        client.put_users(records)
        return []
    except WardenRejected as error:
        if error.status != 400:
            raise
        logger.warning("warden: a batch of %d records was refused (%s); sending one by one",
                       len(records), error.error)
    refused = []
    for record in records:
        refused += _put_one(client, record)
    return refused


def _put_one(client, record):
    try:
        client.put_user(record)
        return []
    except WardenRejected as error:
        if error.status != 400:
            raise
        logger.error("warden: the record of user %s was refused: %s", record["id"], error.error)
        return [record["id"]]


def records_of(user_ids):
    """(records of the users still in Auth, ids of those gone), both sorted by id."""
    ids = sorted({int(user_id) for user_id in user_ids})
    users = load_users(ids)
    return [user_record(users[i]) for i in ids if i in users], [i for i in ids if i not in users]


def push_reserved_group_names(client):
    """Sends Auth's reserved group names (Group Management > Reserved group names)."""
    from allianceauth.groupmanagement.models import ReservedGroupName

    names = list(ReservedGroupName.objects.values_list("name", flat=True))
    client.put_reserved_group_names(names)
    return len(names)
