"""objects.tlp and objects.created: what a sharing agreement's ceiling and embargo read.

Each version's strictest TLP level among its ``object_marking_refs`` and its
``created`` time, kept at ingest (``accord.stix.Record``), so that a page read
through an agreement can leave out in SQL the rows the agreement withholds for
certain (``accord.policy.Withholds``) instead of reading and deciding each one.

The versions stored before this migration get their values here, from their
stored bytes, by the same code ``prepare`` uses; batches of 2,000 by ``added``
so that neither database holds the table in memory.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

from accord.stix import tlp_of_refs
from accord.stix._timestamps import epoch_us

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 2_000


def _facts(data: bytes) -> tuple[int | None, int | None]:
    obj = orjson.loads(data)
    if type(obj) is not dict:
        return None, None
    refs = obj.get("object_marking_refs")
    level = tlp_of_refs(refs) if type(refs) is list else None
    created = obj.get("created")
    return (
        None if level is None else int(level),
        epoch_us(created) if type(created) is str else None,
    )


def upgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.add_column(sa.Column("tlp", sa.SmallInteger, nullable=True))
        batch.add_column(sa.Column("created", sa.BigInteger, nullable=True))
    conn = op.get_bind()
    objects = sa.table(
        "objects",
        sa.column("added", sa.BigInteger),
        sa.column("data", sa.LargeBinary),
        sa.column("tlp", sa.SmallInteger),
        sa.column("created", sa.BigInteger),
    )
    fill = (
        sa.update(objects)
        .where(objects.c.added == sa.bindparam("key"))
        .values(tlp=sa.bindparam("level"), created=sa.bindparam("at"))
    )
    last: int | None = None
    while True:
        chunk = sa.select(objects.c.added, objects.c.data).order_by(objects.c.added).limit(_BATCH)
        if last is not None:
            chunk = chunk.where(objects.c.added > last)
        rows = conn.execute(chunk).all()
        if not rows:
            return
        values = []
        for added, data in rows:
            level, at = _facts(bytes(data))
            if level is not None or at is not None:
                values.append({"key": added, "level": level, "at": at})
        if values:
            conn.execute(fill, values)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("created")
        batch.drop_column("tlp")
