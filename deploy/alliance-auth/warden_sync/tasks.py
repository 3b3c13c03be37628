"""Celery tasks: the pushes run in a worker, after the transaction that changed the user commits,
so a web request never waits for Warden and a Warden restart only delays the pushes."""

import logging

from celery import shared_task

from . import app_settings, sync
from .client import WardenRejected, WardenUnavailable

logger = logging.getLogger(__name__)


def _backoff(retries):
    return min(600, 15 * 2 ** retries)  # 15 s, 30 s, 1 min, ... at most 10 min


@shared_task(bind=True, ignore_result=True, max_retries=None)
def push_users(self, user_ids):
    """Push the current records of these users (deleting those gone from Auth)."""
    try:
        sync.push_users(user_ids)
    except WardenUnavailable as error:
        if self.request.retries >= app_settings.WARDEN_TASK_MAX_RETRIES:
            logger.error("warden: gave up pushing users %s: %s; run `manage.py warden_push_all` "
                         "once Warden is back", user_ids, error)
            return
        raise self.retry(countdown=_backoff(self.request.retries))
    except WardenRejected as error:
        # 401 (wrong admin token) or another refusal: retrying the same request cannot help.
        logger.error("warden: pushing users %s was refused: %s", user_ids, error)


@shared_task(bind=True, ignore_result=True, max_retries=None)
def delete_user(self, user_id):
    """The user was deleted in Auth."""
    try:
        sync.delete_user(user_id)
    except WardenUnavailable as error:
        if self.request.retries >= app_settings.WARDEN_TASK_MAX_RETRIES:
            logger.error("warden: gave up deleting user %s: %s", user_id, error)
            return
        raise self.retry(countdown=_backoff(self.request.retries))
    except WardenRejected as error:
        logger.error("warden: deleting user %s was refused: %s", user_id, error)


@shared_task(bind=True, ignore_result=True, max_retries=None)
def push_reserved_group_names(self):
    try:
        sync.push_reserved_group_names()
    except WardenUnavailable as error:
        if self.request.retries >= app_settings.WARDEN_TASK_MAX_RETRIES:
            logger.error("warden: gave up pushing reserved group names: %s", error)
            return
        raise self.retry(countdown=_backoff(self.request.retries))
    except WardenRejected as error:
        logger.error("warden: reserved group names were refused: %s", error)
