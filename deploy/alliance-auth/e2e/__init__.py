"""Tests that need more than Python: headless Chromium (Debian's chromium and chromium-driver, driven
by selenium) and, for the end-to-end test, the real `warden` daemon and `warden-fake` built by
`swift build`. Run them with `python runtests.py e2e` (.ci/run does).

Binaries: WARDEN_BIN and WARDEN_FAKE_BIN, default ../../.build/debug/{warden,warden-fake} from this
folder. Screenshots go to AA_SCREENSHOT_DIR (default ../../.build/aa-screenshots), kept by CI.
With CI set, a missing browser or binary fails the test; without CI it is skipped.
"""
