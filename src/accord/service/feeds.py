"""Feeds and formats: MISP and IOC lists in, sensor and MISP exports out, scheduled feeds.

- `import_foreign` (`_foreign`): MISP events and feed directories, CSV and
  text lists, each event or list in its own transaction.
"""

from __future__ import annotations

from accord.service._foreign import (
    FORMATS,
    ForeignReport,
    ListOptions,
    classify,
    import_foreign,
    parse_list,
)

__all__ = [
    "FORMATS",
    "ForeignReport",
    "ListOptions",
    "classify",
    "import_foreign",
    "parse_list",
]
