"""Celery tasks. The pushes run after the transaction that changed the user commits, from the
outbox (outbox.py), so a web request never waits for Warden's retries and a Warden outage or a
worker restart only delays them.

Add the safety net to CELERYBEAT_SCHEDULE (README, "Install"): a drain every minute sends whatever a
lost task or an outage left behind.
"""

import logging

from celery import shared_task

from . import outbox
from .client import page_client, worker_client

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True)
def drain_outbox(self):
    """Sends the pending changes to Warden. In a worker: with the configured retries, then, if
    Warden is still down, once more when the wait is over. Run eagerly (CELERY_ALWAYS_EAGER, i.e.
    inside a web request): one short try per request and no retry at all; the entries stay for
    the next drain."""
    eager = bool(getattr(self.request, "is_eager", False))
    client = page_client() if eager else worker_client()
    result = outbox.drain(client)
    if result.retry_at is not None and not eager:
        try:
            drain_outbox.apply_async(eta=result.retry_at, retry=False)
        except Exception:  # the broker is down too: the beat entry (or the next change) drains later
            logger.exception("warden: could not schedule the next try of the outbox drain")
    return None


def request_drain():
    """Asks for a drain (after a commit). Never raises into the web request: if the broker cannot
    take the task, the outbox keeps the changes for the beat entry or the next change."""
    try:
        drain_outbox.apply_async(retry=False)
    except Exception:
        logger.exception("warden: could not queue the outbox drain; the changes stay in the outbox")
