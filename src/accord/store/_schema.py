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
    Float,
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
    # Private lookup only (accord.service.lookup): never a read.
    Column("can_lookup", Boolean(create_constraint=False), nullable=False, server_default="0"),
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

# -- members' judgement: remarks and standings (migration 0010) -----------------

# The STIX identity of a peer: what it says it wrote (an opinion's or note's
# created_by_ref) must be this, or the pull refuses it (NULL: none bound, and
# opinions from it are refused).
peers.append_column(Column("identity_id", String(300), nullable=True))

remarks = Table(
    "remarks",
    metadata,
    # What members said of (or saw of) an object, by that object's id, whether or
    # not the object is held here yet. One row per (object, bucket, slot): the
    # latest opinion (bucket "opinion", slot the author) and sighting (bucket
    # "sighting") of each member, so that a member flooding opinions is one row;
    # every note (bucket "note", slot the note's id).
    Column("object_id", String(300), primary_key=True),
    Column("bucket", String(16), primary_key=True),
    Column("slot", String(300), primary_key=True),
    # opinion, withdrawn (a revoked opinion), sighting or note.
    Column("kind", String(16), nullable=False),
    Column("author", String(300), nullable=False),
    # The id of the opinion, sighting or note, and objects.added of its version.
    Column("source_id", String(300), nullable=False),
    Column("object_added", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("reason", String(64), nullable=True),
    # The remark's modified, seconds since the epoch.
    Column("at", Float, nullable=False),
)
Index("ix_remarks_object_added", remarks.c.object_added)

standings = Table(
    "standings",
    metadata,
    # accord.standing.Standing of an object, as of `computed` (microseconds): kept
    # beside the object, never in its STIX bytes.
    Column("object_id", String(300), primary_key=True),
    Column("score", Float, nullable=False),
    Column("members", Integer, nullable=False),
    Column("agree", Integer, nullable=False),
    Column("disagree", Integer, nullable=False),
    Column("sightings", Integer, nullable=False),
    Column("false_positives", Integer, nullable=False),
    # The false-positive reason codes, comma-separated.
    Column("reasons", Text, nullable=False),
    Column("computed", BigInteger, nullable=False),
)
Index("ix_standings_computed", standings.c.computed)

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


# Private lookup (migration 0013): one key per (collection, epoch), one filter per
# member offered, the quota used, and every answered batch with its count.
lookup_epochs = Table(
    "lookup_epochs",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("collection_pk", Integer, ForeignKey("collections.pk"), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("not_before", BigInteger, nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("seed_sealed", LargeBinary, nullable=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("created", BigInteger, nullable=False),
    UniqueConstraint("collection_pk", "epoch", name="uq_lookup_epoch"),
)

lookup_offers = Table(
    "lookup_offers",
    metadata,
    Column("epoch_pk", Integer, ForeignKey("lookup_epochs.pk"), primary_key=True),
    Column("member_pk", Integer, ForeignKey("members.pk"), primary_key=True),
    Column("filter", LargeBinary, nullable=False),
    Column("filter_digest", String(71), nullable=False),
    Column("context", LargeBinary, nullable=True),
    Column("context_digest", String(71), nullable=True),
    Column("size_class", Integer, nullable=False),
    Column("fpr", Float, nullable=False),
    Column("values", Integer, nullable=False),
    Column("log_index", BigInteger, nullable=True),
    Column("salt", LargeBinary, nullable=True),
    Column("used", Integer, nullable=False, server_default="0"),
    Column("created", BigInteger, nullable=False),
)

lookup_batches = Table(
    "lookup_batches",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("epoch_pk", Integer, ForeignKey("lookup_epochs.pk"), nullable=False),
    Column("member_pk", Integer, ForeignKey("members.pk"), nullable=False),
    Column("count", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
)

# -- the transparency log (migration 0007) -------------------------------------------

# Entry ``idx`` (0-based) of the log: its canonical bytes (accord.ledger.Entry) and type.
log_entries = Table(
    "log_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("recorded", BigInteger, nullable=False),
)

# The tree's stored hashes, by accord.ledger.stored_index (leaf hashes and the
# hashes of complete subtrees): every root and proof reads a few of these.
log_hashes = Table(
    "log_hashes",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

# What the public log hides of a share: the recipient, the salt of its
# commitment, and the versions sent (their ``added`` values, int64 big-endian).
# Read by the node's owner and by members flagged auditor, never served to others.
log_openings = Table(
    "log_openings",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("recipient", Text, nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("agreement", Text, nullable=True),
    Column("versions", LargeBinary, nullable=False),
)
Index("ix_log_openings_recipient", log_openings.c.recipient)

# The checkpoints this node signed (its own log), newest by size.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed", BigInteger, nullable=False),
)

# Cosignatures witnesses handed back for our checkpoints (one line each).
log_cosignatures = Table(
    "log_cosignatures",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(300), primary_key=True),
    Column("line", Text, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

# As a witness: the latest checkpoint of each log we verified and cosigned,
# and the key we know it by (a peer's, or a member's pinned at first use).
witnessed = Table(
    "witnessed",
    metadata,
    Column("origin", String(300), primary_key=True),
    Column("vkey", Text, nullable=False),
    Column("peer", Text, nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
    # Set once two inconsistent checkpoints were seen: we stop cosigning.
    Column("forked", Boolean(create_constraint=False), nullable=False, server_default="0"),
)

# Two signed checkpoints of one log that cannot both be true (a fork, a rewrite).
witness_evidence = Table(
    "witness_evidence",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(300), nullable=False),
    Column("first", Text, nullable=False),
    Column("second", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("found", BigInteger, nullable=False),
)

# Receipts of what peers sent us: the entry a peer logged for each page we
# pulled, and whether its inclusion in the peer's signed tree was verified.
receipts = Table(
    "receipts",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("peer", Text, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("entry", LargeBinary, nullable=False),
    # pending, verified or failed
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("checked", BigInteger, nullable=True),
    UniqueConstraint("peer", "idx", name="uq_receipts_peer_idx"),
)
Index("ix_receipts_status", receipts.c.status)

# Report drafts (accord report import): reviewed before anything is shared.
# Deliberately not in `objects`: no TAXII page, push, export or match reads this table.
report_drafts = Table(
    "report_drafts",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    # SHA-256 of the document's bytes: the same document is the same draft.
    Column("sha256", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("title", Text, nullable=False),
    # draft, or published (then `published` and `collection` say when and where).
    Column("status", String(16), nullable=False),
    # The extraction, the analyst's edits and the import options, as JSON.
    Column("body", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("published", BigInteger, nullable=True),
    Column("collection", Text, nullable=True),
)

# The lookup-epoch entries of the log, found by type (migration 0013).
Index("ix_log_entries_type", log_entries.c.type, log_entries.c.idx)

# -- the analyst's console (migration 0008) ------------------------------------------

users = Table(
    "users",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    # admin, analyst, auditor or read-only (accord.service.console.ROLES).
    Column("role", String(16), nullable=False),
    # Argon2id, in the PHC string format of argon2-cffi.
    Column("password_hash", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    # Bumped on a new password: signed session cookies carry it, so older ones stop working.
    Column("epoch", Integer, nullable=False, server_default="0"),
)

# References between objects (relationship ends, sighting_of_ref, object_refs, ...),
# kept at ingest: the object page's sightings and the graph read them by index.
object_refs = Table(
    "object_refs",
    metadata,
    Column("ref", String(300), primary_key=True),
    Column("object_added", BigInteger, primary_key=True),
    Column("prop", String(64), primary_key=True),
    sqlite_with_rowid=False,
)
Index("ix_objects_current_type", objects.c.type, objects.c.superseded, objects.c.revoked)

# The free-text index of names and descriptions is dialect-specific and not in this
# metadata: SQLite's FTS5 virtual table object_text(name, description; rowid = added),
# PostgreSQL's object_text(added, doc tsvector) with a GIN index (migration 0008).
FREE_TEXT_TABLES = ("object_text",)

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

# -- rate limits and quotas of the TAXII server (migration 0014) -----------------------

# One token bucket per key ("m12:r": member 12's requests, "a192.0.2.1:r": an anonymous
# address), as its theoretical arrival time in microseconds (accord.limits). A row whose
# tat has passed is a full bucket, the same as no row: swept now and then.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("tat", BigInteger, nullable=False),
)

# Requests in progress, one row each, so that a count holds across worker processes. A
# lease expires on its own: a worker killed mid-request frees its slots at `expires`.
rate_leases = Table(
    "rate_leases",
    metadata,
    Column("lease", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("expires", BigInteger, nullable=False),
)
Index("ix_rate_leases_key", rate_leases.c.name, rate_leases.c.expires)

# A member's own limits (`accord member limits`); NULL: the node's ACCORD_LIMIT_* setting.
member_limits = Table(
    "member_limits",
    metadata,
    Column("member_pk", Integer, ForeignKey("members.pk"), primary_key=True),
    Column("requests_per_second", Float, nullable=True),
    Column("burst", Integer, nullable=True),
    Column("objects_per_day", BigInteger, nullable=True),
    Column("concurrent", Integer, nullable=True),
)
