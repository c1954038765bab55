"""The first schema: node, sources, objects, provenance, observables, collections.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("kind", "name", name="uq_sources_kind_name"),
    )
    op.create_table(
        "objects",
        sa.Column("added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(300), nullable=False),
        sa.Column("type", sa.String(250), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("spec_version", sa.String(8), nullable=False),
        sa.Column("revoked", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("source_pk", sa.Integer, sa.ForeignKey("sources.pk"), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("id", "version", name="uq_objects_id_version"),
    )
    op.create_index("ix_objects_type", "objects", ["type"])
    op.create_table(
        "provenance",
        sa.Column("object_added", sa.BigInteger, sa.ForeignKey("objects.added"), primary_key=True),
        sa.Column("source_pk", sa.Integer, sa.ForeignKey("sources.pk"), primary_key=True),
        sa.Column("seen", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "observables",
        sa.Column("value", sa.Text, primary_key=True),
        sa.Column("object_added", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "collections",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "collection_objects",
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk"), primary_key=True),
        sa.Column("added", sa.BigInteger, primary_key=True),
        sa.Column("object_added", sa.BigInteger, sa.ForeignKey("objects.added"), nullable=False),
        sa.UniqueConstraint("collection_pk", "object_added", name="uq_collection_objects_version"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for name in ("collection_objects", "collections", "observables", "provenance"):
        op.drop_table(name)
    op.drop_index("ix_objects_type", table_name="objects")
    for name in ("objects", "sources", "node"):
        op.drop_table(name)
