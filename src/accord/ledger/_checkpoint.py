"""C2SP tlog-checkpoint: the signed statement of a log's size and root.

The note text is the origin, the tree size in decimal (no leading zeroes), the
root hash in base64, and optional extension lines, each ending in a newline
(c2sp.org/tlog-checkpoint). Accord signs it with the node's Ed25519 identity
key under the origin as key name, and publishes it with the cosignatures its
witnesses handed back.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from accord.exceptions import NoteInvalid
from accord.ledger._merkle import HASH_SIZE


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, size, root and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text that is signed."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str, origin: str | None = None) -> Checkpoint:
    """Read a checkpoint's note text.

    Args:
        text: the note text (the signed part, ending in a newline).
        origin: the origin expected, if known.

    Raises:
        NoteInvalid: fewer than three lines, a bad size or root, an empty
            extension line, or another origin than ``origin``.
    """
    if not text.endswith("\n"):
        raise NoteInvalid("the checkpoint does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteInvalid("a checkpoint has at least three lines (origin, size, root)")
    got, size_text, root_text, *extensions = lines
    if not got:
        raise NoteInvalid("the checkpoint's origin is empty")
    if origin is not None and got != origin:
        raise NoteInvalid(f"the checkpoint is of origin {got!r}, not {origin!r}")
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (size_text != "0" and size_text.startswith("0"))
    ):
        raise NoteInvalid(f"the checkpoint's size {size_text[:30]!r} is not a decimal")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise NoteInvalid("the checkpoint's root is not base64") from exc
    if len(root) != HASH_SIZE:
        raise NoteInvalid(f"the checkpoint's root is {len(root)} bytes, not {HASH_SIZE}")
    if any(not line for line in extensions):
        raise NoteInvalid("the checkpoint has an empty extension line")
    return Checkpoint(got, int(size_text), root, tuple(extensions))
