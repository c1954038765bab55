"""Feeds and formats: MISP and IOC lists in, sensor and MISP exports out, scheduled feeds.

- `import_foreign` (`_foreign`): MISP events and feed directories, CSV and
  text lists, each event or list in its own transaction.
- `export_sensor`, `sensor_chunks`, `export_misp_feed`, `misp_feed` (`_exports`):
  Zeek intel, Suricata, CSV and MISP feeds, streamed, through members' gates.
- `add_feed`, `sync_feed`, `FeedScheduler` (`_feed_sync`): feeds pulled on a
  schedule, with conditional requests and the lifecycle of their indicators.
"""

from __future__ import annotations

from accord.service._exports import (
    EXPORT_FORMATS,
    SENSOR_FORMATS,
    SURICATA_FILES,
    MispFeed,
    SensorCounts,
    SensorExport,
    collection_objects,
    export_misp_feed,
    export_misp_feed_for,
    export_sensor,
    export_sensor_for,
    logged_sensor_feed,
    member_gate,
    misp_feed,
    misp_feed_event,
    reader_gate,
    sensor_chunks,
    write_sensor,
)
from accord.service._feed_sync import (
    FEED_FORMATS,
    FeedReport,
    FeedScheduler,
    Fetch,
    Fetched,
    add_feed,
    download_misp_feed,
    expire,
    list_feeds,
    remove_feed,
    sync_feed,
    sync_feeds,
)
from accord.service._foreign import (
    FORMATS,
    ForeignReport,
    ListOptions,
    classify,
    import_foreign,
    parse_list,
)

__all__ = [
    "EXPORT_FORMATS",
    "FEED_FORMATS",
    "FORMATS",
    "SENSOR_FORMATS",
    "SURICATA_FILES",
    "FeedReport",
    "FeedScheduler",
    "Fetch",
    "Fetched",
    "ForeignReport",
    "ListOptions",
    "MispFeed",
    "SensorCounts",
    "SensorExport",
    "add_feed",
    "classify",
    "collection_objects",
    "download_misp_feed",
    "expire",
    "export_misp_feed",
    "export_misp_feed_for",
    "export_sensor",
    "export_sensor_for",
    "import_foreign",
    "list_feeds",
    "logged_sensor_feed",
    "member_gate",
    "misp_feed",
    "misp_feed_event",
    "parse_list",
    "reader_gate",
    "remove_feed",
    "sensor_chunks",
    "sync_feed",
    "sync_feeds",
    "write_sensor",
]
