"""The transparency log: entries, stored hashes, openings, checkpoints, witnesses, receipts.

See ``accord.store._schema`` for what each table holds; the log itself is
append-only by code (no statement of Accord updates or deletes its rows), and
``accord log verify`` finds a row changed by hand.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("recorded", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "log_hashes",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_openings",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("agreement", sa.Text, nullable=True),
        sa.Column("versions", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_log_openings_recipient", "log_openings", ["recipient"])
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "log_cosignatures",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(300), primary_key=True),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "witnessed",
        sa.Column("origin", sa.String(300), primary_key=True),
        sa.Column("vkey", sa.Text, nullable=False),
        sa.Column("peer", sa.Text, nullable=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
        sa.Column(
            "forked", sa.Boolean(create_constraint=False), nullable=False, server_default="0"
        ),
    )
    op.create_table(
        "witness_evidence",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("first", sa.Text, nullable=False),
        sa.Column("second", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("found", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "receipts",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("peer", sa.Text, nullable=False),
        sa.Column("idx", sa.BigInteger, nullable=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("checked", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("peer", "idx", name="uq_receipts_peer_idx"),
    )
    op.create_index("ix_receipts_status", "receipts", ["status"])


def downgrade() -> None:
    op.drop_index("ix_receipts_status", "receipts")
    op.drop_index("ix_log_openings_recipient", "log_openings")
    for table in (
        "receipts",
        "witness_evidence",
        "witnessed",
        "log_cosignatures",
        "log_checkpoints",
        "log_openings",
        "log_hashes",
        "log_entries",
    ):
        op.drop_table(table)
