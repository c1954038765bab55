"""Sharing agreements: members' declared jurisdiction and the agreement log.

Agreements themselves are TOML files in ``<ACCORD_HOME>/agreements/``; the
log records every version of each that the node put into force (or refused
as invalid), with its text, digest and time, so that what governed a share
can be shown later.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("jurisdiction", sa.String(16), nullable=True))
    op.create_table(
        "agreement_log",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("recorded", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_agreement_log_name", "agreement_log", ["name"])


def downgrade() -> None:
    op.drop_index("ix_agreement_log_name", table_name="agreement_log")
    op.drop_table("agreement_log")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("jurisdiction")
