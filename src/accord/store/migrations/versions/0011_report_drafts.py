"""Report drafts: IOCs, techniques and a STIX draft from a document, before review.

Kept apart from ``objects`` so that no egress path (TAXII, push, export)
can serve a draft; `accord report publish` stores it through ingest.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_drafts",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
        sa.Column("published", sa.BigInteger, nullable=True),
        sa.Column("collection", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("report_drafts")
