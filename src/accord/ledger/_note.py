"""C2SP signed notes, verifier keys, and tlog-cosignature/v1.

A signed note (c2sp.org/signed-note) is a UTF-8 text ending in a newline, a
blank line, and signature lines ``— <name> base64(key id || signature)``. The
key id of an Ed25519 key is SHA-256(name || 0x0A || 0x01 || public key)[:4];
of a cosigner (c2sp.org/tlog-cosignature, type 0x04) the same with 0x04, and
its signature is a timestamp (u64, big-endian) followed by an Ed25519
signature over ``cosignature/v1\\ntime <t>\\n`` and the checkpoint's text.
ECDSA (type 0x02) notes are verified too, since real logs (Rekor) sign so.

Verifiers follow the spec: signatures by unknown keys are ignored, a known
key's bad signature rejects the whole note, and a note with no verified
signature is rejected. At most `MAX_SIGNATURES` lines are read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.exceptions import NoteInvalid

ED25519 = 0x01
ECDSA = 0x02
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20
_DASH = "\u2014 "


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """The 4-byte key id of a key (signed-note: SHA-256(name || 0x0A || type || key)[:4])."""
    if kind == ECDSA:  # the sigstore convention: the hash of the DER SPKI alone
        return hashlib.sha256(public).digest()[:4]
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteInvalid(f"key name {name!r} is empty or holds a space or '+'")


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public key a note may be signed by: name, type, key id and the key bytes."""

    name: str
    kind: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)

    @property
    def vkey(self) -> str:
        """The verifier key text: ``name+hex(key id)+base64(type || key)``."""
        material = base64.b64encode(bytes([self.kind]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            if self.kind == ECDSA:
                key = serialization.load_der_public_key(self.public)
                if not isinstance(key, ec.EllipticCurvePublicKey):
                    return False
                key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            else:
                Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_vkey(text: str) -> Verifier:
    """Read a verifier key.

    Raises:
        NoteInvalid: it is malformed, of an unknown type, or its id does not match its key.
    """
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteInvalid(f"verifier key {text[:80]!r} is not name+id+key")
    name, hex_id, material = parts
    _check_name(name)
    try:
        want = bytes.fromhex(hex_id)
        raw = base64.b64decode(material, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteInvalid(f"verifier key {name!r}: bad hex id or base64 key") from exc
    if len(want) != 4 or not raw:
        raise NoteInvalid(f"verifier key {name!r}: the key id is not 4 bytes")
    kind, public = raw[0], raw[1:]
    if kind in (ED25519, COSIGNATURE_V1):
        if len(public) != 32:
            raise NoteInvalid(f"verifier key {name!r}: an Ed25519 key is 32 bytes")
    elif kind == ECDSA:
        try:
            serialization.load_der_public_key(public)
        except ValueError as exc:
            raise NoteInvalid(f"verifier key {name!r}: not an ECDSA public key") from exc
    else:
        raise NoteInvalid(f"verifier key {name!r}: unknown signature type 0x{kind:02x}")
    verifier = Verifier(name, kind, public)
    if verifier.key_id != want:
        raise NoteInvalid(f"verifier key {name!r}: the id does not match the key")
    return verifier


@dataclass(frozen=True, slots=True)
class Signer:
    """A private Ed25519 key under a name (a log's, or a witness's)."""

    name: str
    key: Ed25519PrivateKey

    def public(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def verifier(self, kind: int = ED25519) -> Verifier:
        return Verifier(self.name, kind, self.public())


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: the key's name, its id and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed note: its text and its signature lines (not yet verified)."""

    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def sign_note(text: str, signer: Signer) -> Signature:
    """The Ed25519 signature line of ``signer`` over a note text."""
    _check_text(text)
    sig = signer.key.sign(text.encode())
    return Signature(signer.name, key_id(signer.name, ED25519, signer.public()), sig)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteInvalid("the note text does not end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteInvalid("the note holds a control character")


def parse_note(data: bytes | str) -> Note:
    """Split a signed note into text and signature lines.

    Raises:
        NoteInvalid: not UTF-8, control characters, no blank line before the
            signatures, a malformed signature line, or over `MAX_SIGNATURES`.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteInvalid(f"the note is over {MAX_NOTE_BYTES} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteInvalid("the note is not UTF-8") from exc
    if len(data) > MAX_NOTE_BYTES:
        raise NoteInvalid(f"the note is over {MAX_NOTE_BYTES} bytes")
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteInvalid("the note holds a control character")
    cut = data.rfind("\n\n")
    if cut < 0 or not data.endswith("\n"):
        raise NoteInvalid("no blank line before the signatures")
    text, block = data[: cut + 1], data[cut + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteInvalid("the note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteInvalid(f"the note has over {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_line(line) for line in lines))


def _parse_line(line: str) -> Signature:
    if not line.startswith(_DASH):
        raise NoteInvalid(f"signature line {line[:60]!r} does not start with an em dash")
    parts = line[len(_DASH) :].split(" ")
    if len(parts) != 2:
        raise NoteInvalid(f"signature line {line[:60]!r} is not '— name signature'")
    name, b64 = parts
    _check_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise NoteInvalid(f"signature of {name!r} is not base64") from exc
    if len(raw) < 5:
        raise NoteInvalid(f"signature of {name!r} is too short")
    return Signature(name, raw[:4], raw[4:])


def open_note(data: bytes | str, verifiers: list[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parse a note and verify its signatures by the known keys.

    Returns:
        The note and the verifiers whose signatures verified (lines by other
        keys are ignored, as the spec asks).

    Raises:
        NoteInvalid: malformed, a known key's signature fails, or none verifies.
    """
    note = parse_note(data)
    message = note.text.encode()
    known = {(v.name, v.key_id): v for v in verifiers if v.kind in (ED25519, ECDSA)}
    verified: list[Verifier] = []
    for sig in note.signatures:
        v = known.get((sig.name, sig.key_id))
        if v is None:
            continue
        if not v.verify(message, sig.signature):
            raise NoteInvalid(f"invalid signature for key {v.name}+{v.key_id.hex()}")
        if v not in verified:
            verified.append(v)
    if not verified:
        raise NoteInvalid("the note has no verifiable signatures")
    return note, verified


# -- tlog-cosignature/v1 --------------------------------------------------------------


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(text: str, witness: Signer, timestamp: int) -> Signature:
    """A witness's cosignature/v1 line over a checkpoint's text at ``timestamp``."""
    if not 0 < timestamp < 1 << 63:
        raise NoteInvalid(f"cosignature timestamp {timestamp} is out of range")
    sig = witness.key.sign(_cosigned_message(text, timestamp))
    kid = key_id(witness.name, COSIGNATURE_V1, witness.public())
    return Signature(witness.name, kid, struct.pack(">Q", timestamp) + sig)


def verify_cosignature(text: str, sig: Signature, witness: Verifier) -> int:
    """Check a cosignature/v1 line by ``witness``; returns its timestamp.

    Raises:
        NoteInvalid: not this witness's line, the wrong length, or a bad signature.
    """
    if witness.kind != COSIGNATURE_V1:
        raise NoteInvalid(f"{witness.name} is not a cosigner key (type 0x04)")
    if (sig.name, sig.key_id) != (witness.name, witness.key_id):
        raise NoteInvalid(f"the line is not by cosigner {witness.name}+{witness.key_id.hex()}")
    if len(sig.signature) != 8 + 64:
        raise NoteInvalid(f"a cosignature is 72 bytes, this one {len(sig.signature)}")
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    if not witness.verify(_cosigned_message(text, timestamp), sig.signature[8:]):
        raise NoteInvalid(f"invalid cosignature by {witness.name}")
    return int(timestamp)


def cosignatures(note: Note, witnesses: list[Verifier]) -> dict[str, int]:
    """The valid cosignatures of ``note`` by known witnesses: name -> timestamp.

    Lines by unknown keys are ignored; a known witness's bad line is ignored too
    (a cosignature is evidence added by others, not part of the log's signature).
    """
    known = {(w.name, w.key_id): w for w in witnesses if w.kind == COSIGNATURE_V1}
    out: dict[str, int] = {}
    for sig in note.signatures:
        w = known.get((sig.name, sig.key_id))
        if w is None:
            continue
        try:
            out[w.name] = verify_cosignature(note.text, sig, w)
        except NoteInvalid:
            continue
    return out
