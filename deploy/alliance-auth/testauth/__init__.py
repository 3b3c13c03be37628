"""A minimal Alliance Auth project for warden_sync's tests (as Alliance Auth community apps ship one)."""

from .celery import app as celery_app  # noqa: F401
