"""Private lookup: the lookup grant, epoch keys, per-member filters, quotas, answered batches.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(
            sa.Column(
                "can_lookup",
                sa.Boolean(create_constraint=False),
                nullable=False,
                server_default="0",
            )
        )
    op.create_table(
        "lookup_epochs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("collection_pk", sa.Integer, sa.ForeignKey("collections.pk"), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("not_before", sa.BigInteger, nullable=False),
        sa.Column("not_after", sa.BigInteger, nullable=False),
        # The DeriveKeyPair seed, sealed with the node's key; NULL once the epoch ended.
        sa.Column("seed_sealed", sa.LargeBinary, nullable=True),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("collection_pk", "epoch", name="uq_lookup_epoch"),
    )
    op.create_table(
        "lookup_offers",
        sa.Column("epoch_pk", sa.Integer, sa.ForeignKey("lookup_epochs.pk"), primary_key=True),
        sa.Column("member_pk", sa.Integer, sa.ForeignKey("members.pk"), primary_key=True),
        sa.Column("filter", sa.LargeBinary, nullable=False),
        sa.Column("filter_digest", sa.String(71), nullable=False),
        sa.Column("context", sa.LargeBinary, nullable=True),
        sa.Column("context_digest", sa.String(71), nullable=True),
        sa.Column("size_class", sa.Integer, nullable=False),
        sa.Column("fpr", sa.Float, nullable=False),
        sa.Column("values", sa.Integer, nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=True),
        # The salt of the member's commitment in the log entry (given to it alone).
        sa.Column("salt", sa.LargeBinary, nullable=True),
        sa.Column("used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "lookup_batches",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("epoch_pk", sa.Integer, sa.ForeignKey("lookup_epochs.pk"), nullable=False),
        sa.Column("member_pk", sa.Integer, sa.ForeignKey("members.pk"), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )

    # A querier asks for the lookup-epoch entries of one epoch: found by type.
    op.create_index("ix_log_entries_type", "log_entries", ["type", "idx"])


def downgrade() -> None:
    op.drop_index("ix_log_entries_type", "log_entries")
    for name in ("lookup_batches", "lookup_offers", "lookup_epochs"):
        op.drop_table(name)
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("can_lookup")
