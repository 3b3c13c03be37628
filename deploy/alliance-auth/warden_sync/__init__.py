"""aa-warden-sync: connects Alliance Auth to Warden, the always-on Discord service daemon."""

__version__ = "1.0.0"
__title__ = "Warden"

