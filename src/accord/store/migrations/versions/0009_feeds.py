"""Scheduled feeds (`accord feed`) and the lifecycle state of their entries.

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("interval", sa.Integer, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("expire_after", sa.Integer, nullable=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk"), nullable=True),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("last_modified", sa.Text, nullable=True),
        sa.Column("last_sync", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_at", sa.BigInteger, nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "feed_entries",
        sa.Column("feed_pk", sa.Integer, sa.ForeignKey("feeds.pk"), primary_key=True),
        sa.Column("object_id", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seen", sa.BigInteger, nullable=False),
        sa.Column("expired", sa.SmallInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("feed_entries")
    op.drop_table("feeds")
