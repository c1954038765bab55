"""Log sources: lines of network logs to detection events (`accord.patterns.Event`).

Zeek (TSV and JSON: conn, dns, http, ssl, files, x509, and the addresses of
any other log), Suricata ``eve.json`` (flow, dns, http, tls, fileinfo, alert),
JSON lines of STIX observed-data, and CSV with a column mapping. Each event
carries its STIX object paths and values as cheap keys, and builds its STIX
observed-data only when the matcher asks for it.

No I/O here: this package is part of Accord's pure core. Reading files, ``.gz``
and following a growing log are the service's (`accord.service.match`).
"""

from __future__ import annotations

from accord.logsources._objects import objects_from_keys, observed_data, stix_time
from accord.logsources._reader import FORMATS, Format, LogParser, Wire, from_wire, to_wire
from accord.logsources._stats import MAX_MESSAGES, Skip, SourceStats

__all__ = [
    "FORMATS",
    "MAX_MESSAGES",
    "Format",
    "LogParser",
    "Skip",
    "SourceStats",
    "Wire",
    "from_wire",
    "objects_from_keys",
    "observed_data",
    "stix_time",
    "to_wire",
]
