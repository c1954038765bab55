"""The node's settings: one typed registry, read from the environment at one edge.

Every setting has the prefix ``ACCORD_``, a default and a line of help. The
registry (`SETTINGS`) drives `load_settings`, `accord settings` and the table in
docs/configuration.md (a test checks that page lists every one).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from accord.exceptions import ConfigError
from accord.limits import parse_networks

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``ACCORD_`` environment variable: name, default (as text) and help."""

    name: str
    default: str
    help: str
    parse: Callable[[str], object] = str


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be zero or a positive integer")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ACCORD_HOME",
        "./accord-data",
        "The node's directory: node.toml, identity key, SQLite file.",
    ),
    Setting(
        "ACCORD_DATABASE_URL",
        "",
        "SQLAlchemy URL of the store. Empty: the SQLite file accord.db in ACCORD_HOME. "
        "PostgreSQL: postgresql+psycopg://USER@HOST:PORT/DB.",
    ),
    Setting(
        "ACCORD_NODE_NAME",
        "",
        "Name given to a new node by `accord init` (default: the directory name).",
    ),
    Setting(
        "ACCORD_BATCH_SIZE",
        "5000",
        "Objects written per database round of an import (one transaction per input file).",
        _positive_int,
    ),
    Setting(
        "ACCORD_MAX_OBJECT_BYTES",
        str(64 * MiB),
        "Largest single STIX object accepted, in bytes, when a big bundle is read as a stream.",
        _positive_int,
    ),
    Setting(
        "ACCORD_PARSER_PROCESS_BYTES",
        str(16 * MiB),
        "Inputs larger than this are parsed and validated in a second process while this one "
        "writes (0: never).",
        _non_negative_int,
    ),
    Setting(
        "ACCORD_STREAM_THRESHOLD_BYTES",
        str(64 * MiB),
        "Bundle files larger than this are parsed as a stream, one object at a time, "
        "so memory stays a small multiple of the largest object, not of the file.",
        _positive_int,
    ),
)


def _positive_number(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


# The TAXII 2.1 server (`accord serve`).
SETTINGS += (
    Setting(
        "ACCORD_TAXII_TITLE",
        "",
        'Title of the TAXII server and its API root (default: "Accord node NAME").',
    ),
    Setting(
        "ACCORD_TAXII_MAX_PAGE",
        "1000",
        "Most objects in one TAXII page: a client's `limit` is capped to it.",
        _positive_int,
    ),
    Setting(
        "ACCORD_TAXII_MAX_CONTENT_LENGTH",
        str(100 * MiB),
        "Largest TAXII request body, in bytes (the API root's max_content_length); "
        "a larger POST gets 413.",
        _positive_int,
    ),
    Setting(
        "ACCORD_TAXII_REQUEST_TIMEOUT",
        "30",
        "Seconds a client has to send a whole request (headers and body) once it "
        "starts one, or after connecting; then the connection is closed.",
        _positive_number,
    ),
    Setting(
        "ACCORD_TAXII_KEEP_ALIVE",
        "5",
        "Seconds an idle keep-alive connection stays open between requests.",
        _positive_number,
    ),
    Setting(
        "ACCORD_TAXII_MAX_CONNECTIONS",
        "500",
        "Open connections one server process accepts; beyond it requests get 503.",
        _positive_int,
    ),
    Setting(
        "ACCORD_TAXII_WORKER_TIMEOUT",
        "60",
        "With several server workers: seconds a worker may take to start, or to answer "
        "its supervisor's health check, before it is killed and started anew.",
        _positive_int,
    ),
)

# Federation: pulling from and pushing to peers (`accord sync`, `accord serve`).
SETTINGS += (
    Setting(
        "ACCORD_PEER_TIMEOUT",
        "30",
        "Seconds to connect to a peer and to wait for each read of its answer.",
        _positive_number,
    ),
    Setting(
        "ACCORD_PEER_RETRIES",
        "4",
        "Tries of one request to a peer on a timeout, a connection failure, a 5xx or a 429.",
        _positive_int,
    ),
    Setting(
        "ACCORD_PEER_BACKOFF",
        "0.5",
        "Seconds before the second try of a failed peer request; doubled for each next one.",
        _positive_number,
    ),
    Setting(
        "ACCORD_SYNC_PAGE",
        "1000",
        "Objects asked for per page when pulling, and sent per envelope when pushing.",
        _positive_int,
    ),
)

# Detection (`accord match`).
SETTINGS += (
    Setting(
        "ACCORD_SIGHTINGS_COLLECTION",
        "sightings",
        "Collection (title or id) that `accord match` stores its sightings in; made if missing.",
    ),
    Setting(
        "ACCORD_MATCH_FLUSH_SECONDS",
        "30",
        "While following a log: seconds between writes of changed sightings (each a new "
        "version) and looks for new or revoked indicators.",
        _positive_number,
    ),
)


def _uncovered(text: str) -> str:
    if text not in ("share", "withhold"):
        raise ValueError("must be share or withhold")
    return text


# Sharing agreements (`accord agreement`, `accord policy`).
SETTINGS += (
    Setting(
        "ACCORD_POLICY_UNCOVERED",
        "share",
        "What a member (or anonymous reader) that no sharing agreement covers on a collection "
        "receives: share (its grant alone decides, as without agreements) or withhold (nothing).",
        _uncovered,
    ),
)


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 0.5:
        raise ValueError("must be a rate between 0 and 0.5")
    return value


def _batch_limit(text: str) -> int:
    value = _positive_int(text)
    if value > 65_535:
        raise ValueError("RFC 9497 batches hold at most 65,535 elements")
    return value


# Private lookup (`accord lookup`, RFC 9497 VOPRF).
SETTINGS += (
    Setting(
        "ACCORD_LOOKUP_EPOCH_SECONDS",
        "86400",
        "Length of a private lookup epoch: one OPRF key per collection per epoch; a key is "
        "deleted when its epoch ends.",
        _positive_int,
    ),
    Setting(
        "ACCORD_LOOKUP_QUOTA",
        "100000",
        "Blinded values one member may have evaluated per collection per epoch (then 429).",
        _positive_int,
    ),
    Setting(
        "ACCORD_LOOKUP_BATCH_LIMIT",
        "10000",
        "Blinded values in one evaluation request (at most 65535).",
        _batch_limit,
    ),
    Setting(
        "ACCORD_LOOKUP_FPR",
        "1e-6",
        "False-positive rate the private lookup's filter is sized for.",
        _rate,
    ),
    Setting(
        "ACCORD_LOOKUP_WORKERS",
        "0",
        "Processes that evaluate the OPRF when a filter is prepared (0: one per core).",
        _non_negative_int,
    ),
)


def _non_negative_number(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a number >= 0")
    return value


def parse_weights(text: str) -> tuple[tuple[str, float], ...]:
    """ACCORD_STANDING_WEIGHTS as (name, weight) pairs.

    Raises:
        ValueError: an item is not NAME=WEIGHT with a weight >= 0.
    """
    pairs: list[tuple[str, float]] = []
    for item in text.split(","):
        if not item.strip():
            continue
        who, sep, weight = item.rpartition("=")
        if not sep or not who.strip():
            raise ValueError(f"{item.strip()!r}: expected NAME=WEIGHT (a member, a peer or an id)")
        pairs.append((who.strip(), _non_negative_number(weight.strip())))
    return tuple(pairs)


def _weights(text: str) -> str:
    parse_weights(text)  # checked here; kept as text (settings travel as environment text)
    return text


# Members' judgement: notes, opinions, false positives, standing (`accord opinion`).
SETTINGS += (
    Setting(
        "ACCORD_OPINIONS_COLLECTION",
        "opinions",
        "Collection (title or id) that `accord note`, `accord opinion` and "
        "`accord false-positive` store their objects in; made if missing.",
    ),
    Setting(
        "ACCORD_STANDING_WEIGHTS",
        "",
        "Weights of members in standings: NAME=WEIGHT pairs, comma-separated; NAME is a "
        "member, a peer or a STIX identity id (0 ignores it).",
        _weights,
    ),
    Setting(
        "ACCORD_STANDING_DEFAULT_WEIGHT",
        "1",
        "Weight in standings of every member not in ACCORD_STANDING_WEIGHTS (this node too).",
        _non_negative_number,
    ),
    Setting(
        "ACCORD_STANDING_HALF_LIFE_DAYS",
        "90",
        "A voice's weight in a standing halves every this many days of its age (0: no decay).",
        _non_negative_number,
    ),
    Setting(
        "ACCORD_STANDING_PRIOR",
        "1",
        "Weight of the imagined neutral voice in every standing: one member alone never "
        "takes an indicator to -1 or 1.",
        _non_negative_number,
    ),
    Setting(
        "ACCORD_FP_SUPPRESS_MEMBERS",
        "2",
        "An indicator reported as a false positive by at least this many members is not "
        "matched by `accord match` (its hits are counted as suppressed); 0: never.",
        _non_negative_int,
    ),
)


def _on_off(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("on", "off"):
        raise ValueError("must be on or off")
    return value == "on"


# The transparency log (`accord log`).
SETTINGS += (
    Setting(
        "ACCORD_LOG",
        "on",
        "The transparency log of every share: on, or off (nothing is logged and no receipts "
        "are sent; for measuring its cost only).",
        _on_off,
    ),
    Setting(
        "ACCORD_LOG_CHECKPOINT_SECONDS",
        "2",
        "Longest time between the log growing and a new signed checkpoint covering it "
        "(0: sign one whenever a checkpoint is asked for and the log has grown).",
        _non_negative_number,
    ),
    Setting(
        "ACCORD_LOG_ORIGIN",
        "",
        "The origin line of the log's checkpoints and the key name of its signature "
        "(default: accord/ followed by the node id).",
    ),
)


# Reports to intelligence (`accord report`).
SETTINGS += (
    Setting(
        "ACCORD_REPORT_MAX_BYTES",
        str(50 * MiB),
        "Largest report document (file or download) `accord report import` reads, in bytes.",
        _positive_int,
    ),
    Setting(
        "ACCORD_REPORT_MAX_PAGES",
        "300",
        "Pages of a PDF report read; later pages are left out with a warning in the draft.",
        _positive_int,
    ),
    Setting(
        "ACCORD_REPORT_MAX_CHARS",
        "4000000",
        "Characters of a report's text read; the rest is left out with a warning.",
        _positive_int,
    ),
    Setting(
        "ACCORD_REPORT_TRAINING",
        "",
        "An AnnoCTR-format folder (splits.json, text/, linking_mitre_only/) whose train and dev "
        "reports join the node's ATT&CK in training the text-to-ATT&CK model (empty: none).",
    ),
    Setting(
        "ACCORD_REPORT_SECONDS",
        "60",
        "Time allowed to read one PDF's text layer; pages after it are left out with a warning.",
        _positive_int,
    ),
)


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _secure(text: str) -> str:
    word = text.strip().lower()
    if word not in ("auto", "always", "never"):
        raise ValueError("must be auto, always or never")
    return word


# The analyst's console (`accord serve`, under /console/).
SETTINGS += (
    Setting(
        "ACCORD_WEB_ENABLED",
        "true",
        "Serve the analyst's console under /console/ beside TAXII (false: TAXII only).",
        _bool,
    ),
    Setting(
        "ACCORD_WEB_SESSION_SECONDS",
        "28800",
        "Lifetime of a console session, in seconds from login (then log in again).",
        _positive_number,
    ),
    Setting(
        "ACCORD_WEB_MAX_UPLOAD",
        str(50 * MiB),
        "Largest bundle the console's intake page accepts, in bytes (larger: 413, nothing stored).",
        _positive_int,
    ),
    Setting(
        "ACCORD_WEB_LOGIN_ATTEMPTS",
        "5",
        "Failed console logins allowed per user name and per client address in 5 minutes.",
        _positive_int,
    ),
    Setting(
        "ACCORD_WEB_SECURE_COOKIES",
        "auto",
        "Mark session cookies Secure: auto (when the request came over HTTPS), always, never.",
        _secure,
    ),
    Setting(
        "ACCORD_WEB_DASHBOARD_SECONDS",
        "30",
        "How long the console's dashboard figures are reused before they are counted again.",
        _positive_number,
    ),
)


def lifetimes(text: str) -> dict[str, int]:
    """``kind=days,...`` (kinds: ipv4 ipv6 cidr domain url email hash filename) as a dict.

    Raises:
        ValueError: a part is not KIND=DAYS.
    """
    out: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        kind, eq, days = part.partition("=")
        if not eq or not days.strip().isdigit():
            raise ValueError(f"{part.strip()!r} is not KIND=DAYS")
        out[kind.strip().lower()] = int(days)
    return out


def _lifetimes(text: str) -> str:
    # Kept as text (the settings travel to server workers as environment values).
    return ",".join(f"{k}={v}" for k, v in lifetimes(text).items())


# Feeds and formats (`accord feed`, MISP and list imports, sensor exports).
SETTINGS += (
    Setting(
        "ACCORD_FEED_MAX_BYTES",
        str(512 * MiB),
        "Largest MISP file, list or feed answer read (bytes); a bigger one fails, "
        "changing nothing.",
        _positive_int,
    ),
    Setting(
        "ACCORD_FEED_LIFETIMES",
        "ipv4=30,ipv6=30,cidr=30,domain=90,url=90,email=180,hash=365,filename=365",
        "Days an indicator from a feed stays valid without a feed reconfirming it, per type "
        "(KIND=DAYS,...); then it gets a new version with valid_until. A feed's "
        "--expire-after wins.",
        _lifetimes,
    ),
)


def _limit_state(text: str) -> str:
    if text not in ("auto", "database", "memory"):
        raise ValueError("must be auto, database or memory")
    return text


def _networks(text: str) -> str:
    parse_networks(text)  # refuses what is no address or network
    return text


# Rate limits and quotas of the TAXII server (docs/limits.md). 0 turns a limit off.
SETTINGS += (
    Setting(
        "ACCORD_LIMIT_REQUESTS_PER_SECOND",
        "200",
        "TAXII requests a second one member may make, on average (token bucket; then 429). "
        "0: no limit.",
        _non_negative_number,
    ),
    Setting(
        "ACCORD_LIMIT_BURST",
        "1000",
        "TAXII requests one member may make at once above its rate (the bucket's size; "
        "0: one second's worth).",
        _non_negative_int,
    ),
    Setting(
        "ACCORD_LIMIT_ANONYMOUS_REQUESTS_PER_SECOND",
        "20",
        "TAXII requests a second from one anonymous client address (IPv6: its /64). 0: no limit.",
        _non_negative_number,
    ),
    Setting(
        "ACCORD_LIMIT_ANONYMOUS_BURST",
        "100",
        "Requests one anonymous address may make at once above its rate (0: one second's worth).",
        _non_negative_int,
    ),
    Setting(
        "ACCORD_LIMIT_OBJECTS_PER_DAY",
        "10000000",
        "STIX objects one member may POST in a day (a bucket of this size refilled evenly); "
        "an envelope that would go over is refused whole with 429. 0: no limit.",
        _non_negative_int,
    ),
    Setting(
        "ACCORD_LIMIT_CONCURRENT",
        "32",
        "TAXII requests one member may have in progress at once, across workers. 0: no limit.",
        _non_negative_int,
    ),
    Setting(
        "ACCORD_LIMIT_ANONYMOUS_CONCURRENT",
        "8",
        "TAXII requests one anonymous address may have in progress at once. 0: no limit.",
        _non_negative_int,
    ),
    Setting(
        "ACCORD_LIMIT_LEASE_SECONDS",
        "120",
        "Longest a request holds its concurrency slot: a worker killed mid-request frees "
        "its slots after this.",
        _positive_number,
    ),
    Setting(
        "ACCORD_LIMIT_STATE",
        "auto",
        "Where the buckets live: database (shared by every worker), memory (this process "
        "only) or auto (database on PostgreSQL, memory on SQLite).",
        _limit_state,
    ),
    Setting(
        "ACCORD_LIMIT_TRUSTED_PROXIES",
        "",
        "Addresses or networks of reverse proxies whose X-Forwarded-For names the client "
        "(comma-separated). Empty: the header is ignored.",
        _networks,
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    """The parsed settings of this process."""

    home: Path
    database_url: str
    node_name: str
    batch_size: int
    max_object_bytes: int
    stream_threshold_bytes: int
    parser_process_bytes: int
    taxii_title: str = ""
    taxii_max_page: int = 1000
    taxii_max_content_length: int = 100 * MiB
    taxii_request_timeout: float = 30.0
    taxii_keep_alive: float = 5.0
    taxii_max_connections: int = 500
    taxii_worker_timeout: int = 60
    peer_timeout: float = 30.0
    peer_retries: int = 4
    peer_backoff: float = 0.5
    sync_page: int = 1000
    sightings_collection: str = "sightings"
    match_flush_seconds: float = 30.0
    policy_uncovered: str = "share"
    lookup_epoch_seconds: int = 86400
    lookup_quota: int = 100_000
    lookup_batch_limit: int = 10_000
    lookup_fpr: float = 1e-6
    lookup_workers: int = 0
    log: bool = True
    log_checkpoint_seconds: float = 2.0
    log_origin: str = ""
    report_max_bytes: int = 50 * MiB
    report_max_pages: int = 300
    report_max_chars: int = 4_000_000
    report_seconds: int = 60
    report_training: str = ""
    web_enabled: bool = True
    web_session_seconds: float = 28800.0
    web_max_upload: int = 50 * MiB
    web_login_attempts: int = 5
    web_secure_cookies: str = "auto"
    web_dashboard_seconds: float = 30.0
    opinions_collection: str = "opinions"
    standing_weights: str = ""
    standing_default_weight: float = 1.0
    standing_half_life_days: float = 90.0
    standing_prior: float = 1.0
    fp_suppress_members: int = 2
    feed_max_bytes: int = 512 * MiB
    feed_lifetimes: str = ""
    limit_requests_per_second: float = 200.0
    limit_burst: int = 1000
    limit_anonymous_requests_per_second: float = 20.0
    limit_anonymous_burst: int = 100
    limit_objects_per_day: int = 10_000_000
    limit_concurrent: int = 32
    limit_anonymous_concurrent: int = 8
    limit_lease_seconds: float = 120.0
    limit_state: str = "auto"
    limit_trusted_proxies: str = ""

    @property
    def sqlite_path(self) -> Path:
        """The default SQLite file inside the node directory."""
        return self.home / "accord.db"

    @property
    def effective_database_url(self) -> str:
        """ACCORD_DATABASE_URL, or the node's own SQLite file when it is empty."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"


def _value(env: Mapping[str, str], name: str) -> object:
    setting = _BY_NAME[name]
    raw = env.get(name, setting.default)
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(name, f"{raw!r} is not valid: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read every setting from the environment (``os.environ`` by default).

    Args:
        env: the environment to read.
        overrides: field values that win over the environment (from CLI options).

    Raises:
        ConfigError: a value does not parse.
    """
    env = os.environ if env is None else env
    fields: dict[str, object] = {
        "home": Path(str(_value(env, "ACCORD_HOME"))).expanduser(),
        "database_url": _value(env, "ACCORD_DATABASE_URL"),
        "node_name": _value(env, "ACCORD_NODE_NAME"),
        "batch_size": _value(env, "ACCORD_BATCH_SIZE"),
        "max_object_bytes": _value(env, "ACCORD_MAX_OBJECT_BYTES"),
        "stream_threshold_bytes": _value(env, "ACCORD_STREAM_THRESHOLD_BYTES"),
        "parser_process_bytes": _value(env, "ACCORD_PARSER_PROCESS_BYTES"),
        "taxii_title": _value(env, "ACCORD_TAXII_TITLE"),
        "taxii_max_page": _value(env, "ACCORD_TAXII_MAX_PAGE"),
        "taxii_max_content_length": _value(env, "ACCORD_TAXII_MAX_CONTENT_LENGTH"),
        "taxii_request_timeout": _value(env, "ACCORD_TAXII_REQUEST_TIMEOUT"),
        "taxii_keep_alive": _value(env, "ACCORD_TAXII_KEEP_ALIVE"),
        "taxii_max_connections": _value(env, "ACCORD_TAXII_MAX_CONNECTIONS"),
        "taxii_worker_timeout": _value(env, "ACCORD_TAXII_WORKER_TIMEOUT"),
        "peer_timeout": _value(env, "ACCORD_PEER_TIMEOUT"),
        "peer_retries": _value(env, "ACCORD_PEER_RETRIES"),
        "peer_backoff": _value(env, "ACCORD_PEER_BACKOFF"),
        "sync_page": _value(env, "ACCORD_SYNC_PAGE"),
        "sightings_collection": _value(env, "ACCORD_SIGHTINGS_COLLECTION"),
        "match_flush_seconds": _value(env, "ACCORD_MATCH_FLUSH_SECONDS"),
        "policy_uncovered": _value(env, "ACCORD_POLICY_UNCOVERED"),
        "lookup_epoch_seconds": _value(env, "ACCORD_LOOKUP_EPOCH_SECONDS"),
        "lookup_quota": _value(env, "ACCORD_LOOKUP_QUOTA"),
        "lookup_batch_limit": _value(env, "ACCORD_LOOKUP_BATCH_LIMIT"),
        "lookup_fpr": _value(env, "ACCORD_LOOKUP_FPR"),
        "lookup_workers": _value(env, "ACCORD_LOOKUP_WORKERS"),
        "log": _value(env, "ACCORD_LOG"),
        "log_checkpoint_seconds": _value(env, "ACCORD_LOG_CHECKPOINT_SECONDS"),
        "log_origin": _value(env, "ACCORD_LOG_ORIGIN"),
        "report_max_bytes": _value(env, "ACCORD_REPORT_MAX_BYTES"),
        "report_max_pages": _value(env, "ACCORD_REPORT_MAX_PAGES"),
        "report_max_chars": _value(env, "ACCORD_REPORT_MAX_CHARS"),
        "report_seconds": _value(env, "ACCORD_REPORT_SECONDS"),
        "report_training": _value(env, "ACCORD_REPORT_TRAINING"),
        "web_enabled": _value(env, "ACCORD_WEB_ENABLED"),
        "web_session_seconds": _value(env, "ACCORD_WEB_SESSION_SECONDS"),
        "web_max_upload": _value(env, "ACCORD_WEB_MAX_UPLOAD"),
        "web_login_attempts": _value(env, "ACCORD_WEB_LOGIN_ATTEMPTS"),
        "web_secure_cookies": _value(env, "ACCORD_WEB_SECURE_COOKIES"),
        "web_dashboard_seconds": _value(env, "ACCORD_WEB_DASHBOARD_SECONDS"),
        "opinions_collection": _value(env, "ACCORD_OPINIONS_COLLECTION"),
        "standing_weights": _value(env, "ACCORD_STANDING_WEIGHTS"),
        "standing_default_weight": _value(env, "ACCORD_STANDING_DEFAULT_WEIGHT"),
        "standing_half_life_days": _value(env, "ACCORD_STANDING_HALF_LIFE_DAYS"),
        "standing_prior": _value(env, "ACCORD_STANDING_PRIOR"),
        "fp_suppress_members": _value(env, "ACCORD_FP_SUPPRESS_MEMBERS"),
        "feed_max_bytes": _value(env, "ACCORD_FEED_MAX_BYTES"),
        "feed_lifetimes": _value(env, "ACCORD_FEED_LIFETIMES"),
        "limit_requests_per_second": _value(env, "ACCORD_LIMIT_REQUESTS_PER_SECOND"),
        "limit_burst": _value(env, "ACCORD_LIMIT_BURST"),
        "limit_anonymous_requests_per_second": _value(
            env, "ACCORD_LIMIT_ANONYMOUS_REQUESTS_PER_SECOND"
        ),
        "limit_anonymous_burst": _value(env, "ACCORD_LIMIT_ANONYMOUS_BURST"),
        "limit_objects_per_day": _value(env, "ACCORD_LIMIT_OBJECTS_PER_DAY"),
        "limit_concurrent": _value(env, "ACCORD_LIMIT_CONCURRENT"),
        "limit_anonymous_concurrent": _value(env, "ACCORD_LIMIT_ANONYMOUS_CONCURRENT"),
        "limit_lease_seconds": _value(env, "ACCORD_LIMIT_LEASE_SECONDS"),
        "limit_state": _value(env, "ACCORD_LIMIT_STATE"),
        "limit_trusted_proxies": _value(env, "ACCORD_LIMIT_TRUSTED_PROXIES"),
    }
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(fields["home"], str):
        fields["home"] = Path(fields["home"])
    return Settings(**fields)  # type: ignore[arg-type]
