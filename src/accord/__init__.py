"""Accord: a threat-intelligence exchange node for sovereign members.

The public API is what ``__all__`` lists; everything else is private by name
(``_module``) or by package. Layers, inner to outer: ``stix``/``patterns``
(pure, no I/O) → ``store`` → ``service`` → ``cli`` (and later ``taxii``/``web``).
"""

from __future__ import annotations

from accord.exceptions import (
    AccordError,
    ConfigError,
    InputError,
    InvalidObject,
    NodeNotFound,
    NotFound,
    StoreError,
)
from accord.service.ingest import ImportReport, import_paths
from accord.service.node import Node, init_node, open_node
from accord.settings import SETTINGS, Settings, load_settings
from accord.stix import Record, prepare
from accord.store import Query, Store, open_store

__version__ = "0.1.0"

__all__ = [
    "SETTINGS",
    "AccordError",
    "ConfigError",
    "ImportReport",
    "InputError",
    "InvalidObject",
    "Node",
    "NodeNotFound",
    "NotFound",
    "Query",
    "Record",
    "Settings",
    "Store",
    "StoreError",
    "import_paths",
    "init_node",
    "load_settings",
    "open_node",
    "open_store",
    "prepare",
]
