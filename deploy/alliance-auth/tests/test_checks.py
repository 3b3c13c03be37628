"""The system check: warden_sync refuses to run beside Alliance Auth's own Discord service."""

import os
import subprocess
import sys

from django.test import SimpleTestCase

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def manage(*args, settings="testauth.settings.local"):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=120)


class SystemCheckTests(SimpleTestCase):
    def test_both_services_installed_is_an_error_that_stops_manage_py(self):
        result = manage("check", settings="testauth.settings.with_discord")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("warden_sync.E001", result.stderr)
        self.assertIn("allianceauth.services.modules.discord", result.stderr)
        migrate = manage("migrate", "--plan", settings="testauth.settings.with_discord")
        self.assertNotEqual(migrate.returncode, 0, "migrate must refuse too")

    def test_warden_sync_alone_passes(self):
        result = manage("check")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("warden_sync.E001", result.stderr)
