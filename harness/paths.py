"""Where the harness keeps caches (config order: defaults < ``HARNESS_*`` env)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``HARNESS_CACHE_DIR`` or ``$XDG_CACHE_HOME/edge-harness`` (~/.cache/edge-harness)."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "edge-harness"


def models_dir() -> Path:
    """``HARNESS_MODELS_DIR`` or ``<cache>/models``: pretrained ``*.pt`` files are looked up here."""
    env = os.environ.get("HARNESS_MODELS_DIR")
    return Path(env).expanduser() if env else cache_dir() / "models"


def offline() -> bool:
    """True when ``HARNESS_OFFLINE`` is set to 1/true/yes: never try a download."""
    return os.environ.get("HARNESS_OFFLINE", "").lower() in ("1", "true", "yes")


def sysfs_root() -> Path:
    """``/`` normally; ``HARNESS_SYSFS_ROOT`` points every sysfs reader (telemetry, clocks, DLA cores) at a fake tree."""
    return Path(os.environ.get("HARNESS_SYSFS_ROOT", "/"))


def state_dir() -> Path:
    """``HARNESS_STATE_DIR`` or ``$XDG_STATE_HOME/edge-harness`` (~/.local/state/edge-harness): what this host holds
    (the boards leased from a pool), kept across processes so a killed harness's lease is found again."""
    env = os.environ.get("HARNESS_STATE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "edge-harness"
