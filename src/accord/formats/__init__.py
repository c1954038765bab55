"""The formats beside STIX: MISP events and feeds, IOC lists, Zeek and Suricata exports.

Pure functions and streaming writers, no I/O of their own (the callers hand
them parsed documents, lines and open streams):

- `event_to_stix` / `stix_to_events` / `feed_event`: MISP <-> STIX 2.1 through
  MISP's own converter, ``misp-stix`` (`accord.formats._misp`);
- `parse_text` / `parse_csv` / `indicator`: plain IOC lists, maltrail's layout
  (`accord.formats._lists`);
- `sensed` and the writers `ZeekWriter`, `SuricataWriter`, `CsvWriter`
  (`accord.formats._sensors`).
"""

from accord.formats._lists import (
    KINDS,
    ListEntry,
    ListProblem,
    ParsedList,
    detect,
    indicator,
    indicator_id,
    parse_csv,
    parse_text,
    pattern_for,
    producer_identity,
)
from accord.formats._misp import (
    DISTRIBUTION_TLP,
    AttributeProblem,
    Converted,
    FeedEvent,
    MispFormatError,
    event_to_stix,
    feed_event,
    is_misp_document,
    misp_events,
    stix_to_events,
)
from accord.formats._sensors import (
    CSV_HEADER,
    DATASET_FILES,
    HASH_FILES,
    SENSOR_FORMATS,
    ZEEK_HEADER,
    CsvWriter,
    Sensed,
    SuricataWriter,
    ZeekWriter,
    pattern_kind,
    sensed,
)

__all__ = [
    "CSV_HEADER",
    "DATASET_FILES",
    "DISTRIBUTION_TLP",
    "HASH_FILES",
    "KINDS",
    "SENSOR_FORMATS",
    "ZEEK_HEADER",
    "AttributeProblem",
    "Converted",
    "CsvWriter",
    "FeedEvent",
    "ListEntry",
    "ListProblem",
    "MispFormatError",
    "ParsedList",
    "Sensed",
    "SuricataWriter",
    "ZeekWriter",
    "detect",
    "event_to_stix",
    "feed_event",
    "indicator",
    "indicator_id",
    "is_misp_document",
    "misp_events",
    "parse_csv",
    "parse_text",
    "pattern_for",
    "pattern_kind",
    "producer_identity",
    "sensed",
    "stix_to_events",
]
