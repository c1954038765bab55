"""Rate limits and quotas of the TAXII server: shared token buckets, leases, overrides.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("tat", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rate_leases",
        sa.Column("lease", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rate_leases_key", "rate_leases", ["name", "expires"])
    op.create_table(
        "member_limits",
        sa.Column("member_pk", sa.Integer, sa.ForeignKey("members.pk"), primary_key=True),
        sa.Column("requests_per_second", sa.Float, nullable=True),
        sa.Column("burst", sa.Integer, nullable=True),
        sa.Column("objects_per_day", sa.BigInteger, nullable=True),
        sa.Column("concurrent", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("member_limits")
    op.drop_index("ix_rate_leases_key", table_name="rate_leases")
    op.drop_table("rate_leases")
    op.drop_table("rate_buckets")
