"""The database schema, as SQLAlchemy Core tables.

The tables here are the reference the Alembic migrations must build (a test
compares them); the schema itself only ever changes through a migration.

Time is kept as integer microseconds since the Unix epoch. ``objects.added`` is
the version's primary key *and* its ``date_added``: every write takes the next
value of ``max(now, last + 1)`` under the writer lock, so the order is strict
(no two versions share a ``date_added``) and pagination can never tie.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

node = Table(
    "node",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    # file, stdin, peer, taxii, feed
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    UniqueConstraint("kind", "name", name="uq_sources_kind_name"),
)

objects = Table(
    "objects",
    metadata,
    # date_added in microseconds; strictly increasing, unique.
    Column("added", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    # The version key: `modified` at fixed width (accord.stix.version_key).
    Column("version", String(40), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("revoked", Boolean(create_constraint=False), nullable=False),
    Column("source_pk", Integer, ForeignKey("sources.pk"), nullable=False),
    # Canonical JSON bytes, served as they are.
    Column("data", LargeBinary, nullable=False),
    # A newer version of this id is stored (set on arrival, never cleared):
    # the hint that spares most rows the "is this the last version?" lookup.
    Column("superseded", Boolean(create_constraint=False), nullable=False, server_default="0"),
    UniqueConstraint("id", "version", name="uq_objects_id_version"),
)
Index("ix_objects_type", objects.c.type)

provenance = Table(
    "provenance",
    metadata,
    # Further sources of a version already stored (the first is objects.source_pk).
    Column("object_added", BigInteger, ForeignKey("objects.added"), primary_key=True),
    Column("source_pk", Integer, ForeignKey("sources.pk"), primary_key=True),
    Column("seen", BigInteger, nullable=False),
)

observables = Table(
    "observables",
    metadata,
    Column("value", Text, primary_key=True),
    Column("object_added", BigInteger, primary_key=True),
    Column("kind", String(64), nullable=False),
    sqlite_with_rowid=False,
)

collections = Table(
    "collections",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("title", Text, nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
)

collection_objects = Table(
    "collection_objects",
    metadata,
    Column("collection_pk", Integer, ForeignKey("collections.pk"), primary_key=True),
    # date_added of the version in this collection (same clock as objects.added).
    Column("added", BigInteger, primary_key=True),
    Column("object_added", BigInteger, ForeignKey("objects.added"), nullable=False),
    UniqueConstraint("collection_pk", "object_added", name="uq_collection_objects_version"),
    sqlite_with_rowid=False,
)

# -- members, tokens, permissions, statuses (migration 0002) -------------------

# The column added to collections by 0002: anonymous (unauthenticated) read.
collections.append_column(
    Column("anonymous_read", Boolean(create_constraint=False), nullable=False, server_default="0")
)

members = Table(
    "members",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    # The partner organisation as a STIX identity id.
    Column("identity_id", String(300), nullable=False),
    Column("contact", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("member_pk", Integer, ForeignKey("members.pk"), nullable=False),
    # SHA-256 of the token: the token itself is shown once and never stored.
    Column("digest", String(64), nullable=False, unique=True),
    # The first characters, to name a token in lists and revocations.
    Column("prefix", String(16), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("revoked", BigInteger, nullable=True),
)

grants = Table(
    "grants",
    metadata,
    Column("collection_pk", Integer, ForeignKey("collections.pk"), primary_key=True),
    Column("member_pk", Integer, ForeignKey("members.pk"), primary_key=True),
    Column("can_read", Boolean(create_constraint=False), nullable=False),
    Column("can_write", Boolean(create_constraint=False), nullable=False),
)

statuses = Table(
    "statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("member_pk", Integer, ForeignKey("members.pk"), nullable=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk"), nullable=False),
    Column("created", BigInteger, nullable=False),
    # The TAXII 2.1 status resource (§4.3.1) as JSON bytes.
    Column("body", LargeBinary, nullable=False),
)

# -- federation: peers, pull cursors, push state, retractions (migration 0003) --

peers = Table(
    "peers",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    # The peer's TAXII server (scheme, host, port) and its API root path.
    Column("url", Text, nullable=False),
    Column("api_root", Text, nullable=False),
    # The peer's collection we pull from (None: push only), and ours it lands in.
    Column("collection", String(36), nullable=True),
    Column("into_pk", Integer, ForeignKey("collections.pk"), nullable=True),
    # The peer's collection we push to (None: pull only).
    Column("push_collection", String(36), nullable=True),
    # HTTP Basic user name (None: the token is sent as a Bearer token).
    Column("username", Text, nullable=True),
    # The token, sealed with a key derived from the node's identity key.
    Column("token_sealed", LargeBinary, nullable=True),
    Column("interval", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),
    # X-TAXII-Date-Added-Last of the last pulled page stored (TAXII timestamp text).
    Column("pull_cursor", Text, nullable=True),
    Column("last_pull", BigInteger, nullable=True),
    Column("last_push", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", BigInteger, nullable=True),
    # Consecutive failed syncs; 0 after a sync that worked.
    Column("failures", Integer, nullable=False, server_default="0"),
)

peer_push = Table(
    "peer_push",
    metadata,
    Column("peer_pk", Integer, ForeignKey("peers.pk"), primary_key=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk"), primary_key=True),
    # collection_objects.added of the last version pushed (0: nothing yet).
    Column("cursor", BigInteger, nullable=False),
)

push_failures = Table(
    "push_failures",
    metadata,
    Column("peer_pk", Integer, ForeignKey("peers.pk"), primary_key=True),
    Column("object_id", String(300), primary_key=True),
    Column("version", String(40), primary_key=True),
    Column("message", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
)

retractions = Table(
    "retractions",
    metadata,
    Column("object_id", String(300), primary_key=True),
    # Version key of the tombstone version that carries the retraction.
    Column("version", String(40), nullable=False),
    # "local" (`accord retract`) or "peer" (learnt from a peer named `origin`).
    Column("origin_kind", String(32), nullable=False),
    Column("origin", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    # Earlier versions removed from this node.
    Column("purged", Integer, nullable=False),
)

# -- sharing agreements (migration 0005) ------------------------------------------

# A member's declared jurisdiction (a residency code such as EU, DE, CN; None: none).
members.append_column(Column("jurisdiction", String(16), nullable=True))

agreement_log = Table(
    "agreement_log",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    # The agreement's name, and the file it was read from.
    Column("name", Text, nullable=False),
    Column("source", Text, nullable=False),
    # added, changed, removed, or invalid (refused; the earlier version stays in force).
    Column("action", String(16), nullable=False),
    # SHA-256 of the file's bytes, and its text.
    Column("digest", String(64), nullable=False),
    Column("body", Text, nullable=False),
    # Why it was refused (invalid), else empty.
    Column("message", Text, nullable=False),
    Column("recorded", BigInteger, nullable=False),
)
Index("ix_agreement_log_name", agreement_log.c.name)

# -- what a sharing agreement's ceiling and embargo read (migration 0006) ------------

# The strictest TLP level among object_marking_refs (accord.stix.Tlp; NULL: none),
# and `created` in microseconds (NULL: none): Record.tlp and Record.created. A
# page through an agreement leaves out the rows these show it withholds.
objects.append_column(Column("tlp", SmallInteger, nullable=True))
objects.append_column(Column("created", BigInteger, nullable=True))

# The columns of a StoredObject, in its field order: every read that makes one selects these.
stored_columns = (
    objects.c.added,
    objects.c.id,
    objects.c.type,
    objects.c.version,
    objects.c.spec_version,
    objects.c.revoked,
    objects.c.data,
)

# -- scheduled feeds and the lifecycle of their entries (migration 0009) ---------------

feeds = Table(
    "feeds",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False),
    # misp, misp-feed, stix, csv, txt
    Column("format", String(16), nullable=False),
    Column("interval", Integer, nullable=False),
    # TLP 2.0 level name of a list's entries (csv, txt).
    Column("tlp", String(16), nullable=False),
    # Days an entry stays valid without being reconfirmed (None: ACCORD_FEED_LIFETIMES).
    Column("expire_after", Integer, nullable=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk"), nullable=True),
    Column("created", BigInteger, nullable=False),
    # The validators of the last answer, for conditional requests (RFC 9110 §13.1).
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    Column("last_sync", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
)

feed_entries = Table(
    "feed_entries",
    metadata,
    Column("feed_pk", Integer, ForeignKey("feeds.pk"), primary_key=True),
    # An indicator id, or "event:<uuid>" for a MISP feed's event (its timestamp in seen).
    Column("object_id", String(300), primary_key=True),
    # What kind of value (ipv4, domain, hash, ...): its lifetime.
    Column("kind", String(16), nullable=False),
    # When the feed last listed it (microseconds); a MISP feed event: its timestamp.
    Column("seen", BigInteger, nullable=False),
    # 1 once it was given valid_until (vanished or aged out).
    Column("expired", SmallInteger, nullable=False, server_default="0"),
)
