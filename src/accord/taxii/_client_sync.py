"""The background sync of `accord serve`: every peer on its own interval, beside the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from accord.service.sync import SyncScheduler
from accord.settings import Settings
from accord.taxii.client import connector


@contextmanager
def background_sync(settings: Settings) -> Iterator[SyncScheduler]:
    """Sync the node's peers in background threads while the block runs."""
    scheduler = SyncScheduler(settings, connector(settings))
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
