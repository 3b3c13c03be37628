import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testauth.settings.local")

app = Celery("testauth")
app.config_from_object("django.conf:settings")

# As Alliance Auth's project template sets them (its system checks B003/B004 ask for these).
app.conf.broker_connection_retry_on_startup = True
app.conf.broker_transport_options = {"priority_steps": list(range(10)), "queue_order_strategy": "priority"}
app.conf.task_default_priority = 5

app.autodiscover_tasks()
