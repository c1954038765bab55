"""The analyst's console: users, the reference index and the free-text index.

``users`` holds the console's accounts (Argon2id hashes); sessions are signed
cookies, not rows. ``object_refs`` indexes the references between objects
(relationship ends, ``sighting_of_ref``, ``object_refs``, ...), so that an
object's sightings and its graph are index lookups. ``object_text`` is the
free-text index of names and descriptions: an FTS5 virtual table on SQLite,
a ``tsvector`` column with a GIN index on PostgreSQL. All three are filled at
ingest (`accord.store._text`); the versions stored before this migration are
indexed here, in batches of 2,000 by ``added``.

Revision ID: 0008
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store._text import index_rows

revision = "0008"
down_revision = "0013"
branch_labels = None
depends_on = None

_BATCH = 2_000


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "object_refs",
        sa.Column("ref", sa.String(300), primary_key=True),
        sa.Column("object_added", sa.BigInteger, primary_key=True),
        sa.Column("prop", sa.String(64), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_objects_current_type", "objects", ["type", "superseded", "revoked"])
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE object_text USING fts5(name, description,"
            " tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TABLE object_text (added BIGINT PRIMARY KEY, doc TSVECTOR NOT NULL)"
        )
        conn.exec_driver_sql("CREATE INDEX ix_object_text_doc ON object_text USING GIN (doc)")
    objects = sa.table("objects", sa.column("added", sa.BigInteger), sa.column("data"))
    last: int | None = None
    while True:
        chunk = sa.select(objects.c.added, objects.c.data).order_by(objects.c.added).limit(_BATCH)
        if last is not None:
            chunk = chunk.where(objects.c.added > last)
        rows = conn.execute(chunk).all()
        if not rows:
            return
        texts, refs = index_rows([(int(a), bytes(d)) for a, d in rows])
        if texts:
            if sqlite:
                conn.exec_driver_sql(
                    "INSERT INTO object_text (rowid, name, description) VALUES (?, ?, ?)", texts
                )
            else:
                conn.exec_driver_sql(
                    "INSERT INTO object_text (added, doc) VALUES"
                    " (%s, to_tsvector('simple', %s || ' ' || %s))",
                    texts,
                )
        if refs:
            conn.execute(
                sa.insert(
                    sa.table(
                        "object_refs",
                        sa.column("ref"),
                        sa.column("object_added"),
                        sa.column("prop"),
                    )
                ),
                [{"ref": r, "object_added": a, "prop": p} for r, a, p in refs],
            )
        last = rows[-1][0]


def downgrade() -> None:
    op.get_bind().exec_driver_sql("DROP TABLE object_text")
    op.drop_index("ix_objects_current_type", "objects")
    op.drop_table("object_refs")
    op.drop_table("users")
