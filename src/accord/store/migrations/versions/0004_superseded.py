"""objects.superseded: a newer version of the same id is stored.

A hint for TAXII's ``match[version]=last`` (the default of every read): a
version with ``superseded = false`` is the newest of its object in every
collection, so a page only asks the collection about the few others. The
flag is set when a newer version arrives and never cleared (a purge of the
newer version leaves it set, which only costs that check).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.add_column(
            sa.Column(
                "superseded",
                sa.Boolean(create_constraint=False),
                nullable=False,
                server_default="0",
            )
        )
    op.execute(
        "UPDATE objects SET superseded = TRUE WHERE EXISTS (SELECT 1 FROM objects AS newer"
        " WHERE newer.id = objects.id AND newer.version > objects.version)"
    )


def downgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("superseded")
