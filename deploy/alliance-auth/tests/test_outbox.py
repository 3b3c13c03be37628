"""Warden down: the web request returns at once, nothing is retried inside it, the change waits in
the outbox and goes out once Warden is back (a later drain: the beat entry, a worker's scheduled
retry, or the next change)."""

import datetime
from unittest import mock

from django.contrib.auth.models import Group
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from warden_sync import outbox, tasks
from warden_sync.client import WardenClient, worker_client
from warden_sync.models import OutboxEntry

from .helpers import WardenTestCase, access_permission, make_member, member_state


class WardenDownTests(WardenTestCase):
    def setUp(self):
        super().setUp()
        member_state().permissions.add(access_permission())
        self.bruce = make_member("bruce_wayne")
        self.fleet = Group.objects.create(name="Fleet Commanders")
        self.fleet.user_set.add(self.bruce)
        self.settle()

    def tearDown(self):
        if self.warden.server is None:
            self.warden.start()
        super().tearDown()

    def test_a_web_request_returns_at_once_and_the_push_goes_out_later(self):
        admin = make_member("admin_user")
        admin.is_superuser = admin.is_staff = True
        admin.save()
        self.client.force_login(admin)
        self.fleet.authgroup.internal = False  # a group its managers may edit
        self.fleet.authgroup.save()
        self.settle()
        self.warden.stop()
        attempts = []
        original = WardenClient._request

        def counted(client, method, path, json=None):
            attempts.append((method, path, client.session.get_adapter("http://").max_retries.total))
            return original(client, method, path, json=json)

        with mock.patch.object(WardenClient, "_request", counted), self.committed():
            # A group manager removes a member in Alliance Auth: the case that blocked a request for
            # 66 s (11 task attempts x 3 HTTP retries) under eager Celery.
            response = self.client.get(
                reverse("groupmanagement:membership_remove", args=[self.fleet.pk, self.bruce.pk]))
        self.assertEqual(response.status_code, 302)
        self.assertFalse(self.fleet.user_set.filter(pk=self.bruce.pk).exists())
        self.assertEqual(attempts, [("PUT", f"/api/users/{self.bruce.pk}", 0)],
                         "one request, without HTTP retries, inside the web request")
        entry = OutboxEntry.objects.get(kind="user", key=self.bruce.pk)
        self.assertEqual(entry.attempts, 1, "one try, no inline retry")
        self.assertIsNotNone(entry.next_try_at)

        # The next change while the wait runs: no new try inside the request at all.
        attempts.clear()
        with mock.patch.object(WardenClient, "_request", counted), self.committed():
            self.bruce.groups.add(self.fleet)
        self.assertEqual(attempts, [])
        self.assertEqual(OutboxEntry.objects.get(key=self.bruce.pk).attempts, 1)

        # Warden is back; once the wait is over a drain (the beat entry) sends the latest record.
        self.warden.start()
        OutboxEntry.objects.update(next_try_at=timezone.now() - datetime.timedelta(seconds=1))
        tasks.drain_outbox.apply()
        self.assertEqual(self.warden.last_record(self.bruce.pk)["groups"], ["Fleet Commanders"])
        self.assertFalse(OutboxEntry.objects.exists())

    def test_backoff_grows_and_is_capped(self):
        self.assertEqual([outbox.backoff(n) for n in (1, 2, 3, 4)], [15, 30, 60, 120])
        with override_settings(WARDEN_RETRY_MAX_DELAY=100):
            self.assertEqual(outbox.backoff(10), 100)

    def test_a_worker_schedules_the_next_try_instead_of_retrying_inline(self):
        self.warden.stop()
        with self.committed():
            self.bruce.groups.remove(self.fleet)
        self.assertTrue(OutboxEntry.objects.exists())
        OutboxEntry.objects.update(next_try_at=None)
        with mock.patch.object(tasks.drain_outbox, "apply_async") as schedule:
            # As a worker runs it (not eager): the failure schedules one later run with an ETA.
            with mock.patch.object(tasks, "worker_client", side_effect=worker_client):
                tasks.drain_outbox.run()
        self.assertEqual(schedule.call_count, 1)
        eta = schedule.call_args.kwargs["eta"]
        self.assertGreater(eta, timezone.now())
        self.assertEqual(OutboxEntry.objects.get().attempts, 2, "the eager try, then the worker's")

    def test_a_change_made_during_a_drain_is_not_lost(self):
        with self.committed():
            self.bruce.groups.remove(self.fleet)
        # (sent already; now simulate a drain that read the row before a newer change rewrote it)
        with self.committed():
            self.bruce.groups.add(self.fleet)
        self.settle()
        outbox.enqueue_users([self.bruce.pk])
        stale = list(OutboxEntry.objects.all())
        outbox.enqueue_users([self.bruce.pk])  # a newer change: new token
        outbox._remove_sent(stale)
        self.assertTrue(OutboxEntry.objects.filter(key=self.bruce.pk).exists(),
                        "the newer change must survive the older drain")

    def test_a_refused_record_does_not_block_the_others(self):
        clark = make_member("clark_kent")
        self.settle()
        original = self.warden._check

        def refuse_bruce(record, index=None):
            if record["id"] == self.bruce.pk:
                return "username: refused for the test"
            return original(record, index)

        self.warden._check = refuse_bruce
        try:
            with self.committed():
                self.fleet.user_set.add(clark)
                self.bruce.groups.remove(self.fleet)
        finally:
            self.warden._check = original
        self.assertEqual(self.warden.last_record(clark.pk)["groups"], ["Fleet Commanders"])
        self.assertFalse(OutboxEntry.objects.exists(), "a refusal cannot be helped by retrying")

    def test_a_wrong_admin_token_keeps_the_changes(self):
        with override_settings(WARDEN_ADMIN_TOKEN="a-wrong-token-0123456789-0123456789"):
            with self.committed():
                self.bruce.groups.remove(self.fleet)
        entry = OutboxEntry.objects.get()
        self.assertIn("401", entry.last_error)

    def test_the_kill_switch_stops_every_push(self):
        with override_settings(WARDEN_SYNC_ENABLED=False), self.committed():
            self.bruce.groups.remove(self.fleet)
        self.assertEqual(self.warden.calls(), [])
        self.assertFalse(OutboxEntry.objects.exists())
