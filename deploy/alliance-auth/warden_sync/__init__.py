"""Pushes Alliance Auth's users to Warden's admin API (an example app; see README.md)."""
