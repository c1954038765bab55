"""Members, tokens, per-collection grants, anonymous read, TAXII statuses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collections") as batch:
        batch.add_column(
            sa.Column(
                "anonymous_read",
                sa.Boolean(create_constraint=False),
                nullable=False,
                server_default="0",
            )
        )
    op.create_table(
        "members",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("identity_id", sa.String(300), nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_pk", sa.Integer, sa.ForeignKey("members.pk"), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("revoked", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "grants",
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk"), primary_key=True),
        sa.Column("member_pk", sa.Integer, sa.ForeignKey("members.pk"), primary_key=True),
        sa.Column("can_read", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("can_write", sa.Boolean(create_constraint=False), nullable=False),
    )
    op.create_table(
        "statuses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("member_pk", sa.Integer, sa.ForeignKey("members.pk"), nullable=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk"), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for name in ("statuses", "grants", "tokens", "members"):
        op.drop_table(name)
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("anonymous_read")
