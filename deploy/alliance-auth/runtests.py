#!/usr/bin/env python
"""Runs warden_sync's test suite against the installed Alliance Auth, with the test project's
settings (testauth.settings.local), as Alliance Auth community apps run theirs.

    python runtests.py                 the app's suite (tests/)
    python runtests.py tests.e2e       the end-to-end and browser tests (need warden, warden-fake,
                                       chromium and chromedriver; see tests/e2e/__init__.py)

Alliance Auth needs Redis as its cache: a private redis-server on a free port is started for the run
and stopped after it. With CI set, a missing redis-server is a failure, never a skip.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    if os.environ.get("TESTAUTH_REDIS_URL"):
        return None
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("runtests: redis-server is missing (apt-get install redis-server); Alliance Auth needs Redis")
    port = free_port()
    directory = tempfile.mkdtemp(prefix="warden-sync-redis-")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", directory],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                sys.exit("runtests: redis-server exited at start")
            time.sleep(0.05)
    else:
        process.kill()
        sys.exit("runtests: redis-server did not start")
    os.environ["TESTAUTH_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return process


def main():
    sys.path.insert(0, HERE)
    os.chdir(HERE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testauth.settings.local")
    redis = start_redis()
    try:
        import django
        from django.conf import settings
        from django.test.utils import get_runner

        django.setup()
        runner = get_runner(settings)(verbosity=int(os.environ.get("VERBOSITY", "2")))
        labels = sys.argv[1:] or ["tests"]
        failures = runner.run_tests(labels)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
