"""Federation: peers, push cursors, per-object push failures, retractions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("api_root", sa.Text, nullable=False),
        sa.Column("collection", sa.String(36), nullable=True),
        sa.Column("into_pk", sa.Integer, sa.ForeignKey("collections.pk"), nullable=True),
        sa.Column("push_collection", sa.String(36), nullable=True),
        sa.Column("username", sa.Text, nullable=True),
        sa.Column("token_sealed", sa.LargeBinary, nullable=True),
        sa.Column("interval", sa.Integer, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("pull_cursor", sa.Text, nullable=True),
        sa.Column("last_pull", sa.BigInteger, nullable=True),
        sa.Column("last_push", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_at", sa.BigInteger, nullable=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "peer_push",
        sa.Column("peer_pk", sa.Integer, sa.ForeignKey("peers.pk"), primary_key=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk"), primary_key=True),
        sa.Column("cursor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "push_failures",
        sa.Column("peer_pk", sa.Integer, sa.ForeignKey("peers.pk"), primary_key=True),
        sa.Column("object_id", sa.String(300), primary_key=True),
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "retractions",
        sa.Column("object_id", sa.String(300), primary_key=True),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("origin_kind", sa.String(32), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("purged", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("retractions", "push_failures", "peer_push", "peers"):
        op.drop_table(name)
