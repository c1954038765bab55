"""Members' judgement: remarks (opinions, sightings, notes by object) and standings.

``remarks`` indexes what members said of an object by that object's id,
whether the object is held or not (an opinion that arrives before its
indicator is kept and counts when it arrives); ``standings`` keeps each
object's standing beside it, never in its STIX bytes. ``peers.identity_id``
binds a peer to the STIX identity its opinions must carry.

The opinions, sightings and notes stored before this migration are read into
``remarks`` by ``accord standing refresh`` (not here: it needs the node's rules).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.add_column(sa.Column("identity_id", sa.String(300), nullable=True))
    op.create_table(
        "remarks",
        sa.Column("object_id", sa.String(300), primary_key=True),
        sa.Column("bucket", sa.String(16), primary_key=True),
        sa.Column("slot", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("source_id", sa.String(300), nullable=False),
        sa.Column("object_added", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_remarks_object_added", "remarks", ["object_added"])
    op.create_table(
        "standings",
        sa.Column("object_id", sa.String(300), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("members", sa.Integer, nullable=False),
        sa.Column("agree", sa.Integer, nullable=False),
        sa.Column("disagree", sa.Integer, nullable=False),
        sa.Column("sightings", sa.Integer, nullable=False),
        sa.Column("false_positives", sa.Integer, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("computed", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_standings_computed", "standings", ["computed"])


def downgrade() -> None:
    op.drop_index("ix_standings_computed", table_name="standings")
    op.drop_table("standings")
    op.drop_index("ix_remarks_object_added", table_name="remarks")
    op.drop_table("remarks")
    with op.batch_alter_table("peers") as batch:
        batch.drop_column("identity_id")
