"""RFC 9497 VOPRF, ristretto255-SHA512 (mode 0x01), through the ``voprf`` package.

The package (Rust, curve25519-dalek) does the group arithmetic; this module
fixes the byte layout of Accord's messages around it, and turns its errors
into `accord.exceptions.PrivateLookupError` with an index and no value:

- an element is its 32-byte RFC 9496 encoding; the identity and every
  non-canonical encoding are refused (RFC 9497 §4.1: DeserializeElement);
- an evaluation request is ``n`` blinded elements back to back (``32·n`` bytes);
- its answer is the ``n`` evaluated elements in the same order, then one
  batched DLEQ proof ``c || s`` (two 32-byte little-endian scalars, RFC 9497
  §2.2.1 GenerateProof over the whole batch): ``32·n + 64`` bytes;
- an output is RFC 9497 Finalize's 64 bytes (SHA-512).

Keys come from RFC 9497 §3.2.1 DeriveKeyPair(seed, info): 32 random bytes of
seed per epoch, and an ``info`` naming the collection and epoch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from voprf import ristretto

from accord.exceptions import BadElement, DleqProofInvalid, PrivateLookupError

__all__ = [
    "ELEMENT",
    "MAX_BATCH",
    "OUTPUT",
    "PROOF",
    "Blinded",
    "EpochKey",
    "blind",
    "check_public_key",
    "finalize",
    "split_elements",
]

ELEMENT = 32
PROOF = 64
OUTPUT = 64
MAX_BATCH = 65_535  # RFC 9497 §2.2.1: the batch's length is a 2-byte count


def split_elements(body: bytes, limit: int = MAX_BATCH) -> list[bytes]:
    """A request body as its 32-byte elements (lengths checked, not the points).

    Raises:
        PrivateLookupError: empty, not a multiple of 32 bytes, or over ``limit``.
    """
    if not body:
        raise PrivateLookupError("no blinded elements: the body is empty")
    if len(body) % ELEMENT:
        raise PrivateLookupError(
            f"the body is {len(body)} bytes: blinded elements are 32 bytes each"
        )
    n = len(body) // ELEMENT
    if n > min(limit, MAX_BATCH):
        raise PrivateLookupError(f"{n} blinded elements: at most {min(limit, MAX_BATCH)} a batch")
    return [body[i : i + ELEMENT] for i in range(0, len(body), ELEMENT)]


def _blinded(elements: Sequence[bytes]) -> list[ristretto.BlindedInput]:
    out = []
    for i, element in enumerate(elements):
        try:
            out.append(ristretto.BlindedInput.deserialize(element))
        except ValueError:
            raise BadElement(
                f"blinded element {i} is not a canonical ristretto255 element"
            ) from None
    return out


def check_public_key(raw: bytes) -> ristretto.PublicKey:
    """A public key's 32 bytes as the package's key.

    Raises:
        BadElement: not a canonical, non-identity ristretto255 element.
    """
    if len(raw) != ELEMENT:
        raise BadElement(f"a public key is 32 bytes, not {len(raw)}")
    try:
        return ristretto.PublicKey.deserialize(raw)
    except ValueError:
        raise BadElement("the public key is not a canonical ristretto255 element") from None


class EpochKey:
    """An epoch's server key (RFC 9497 §3.2.1 DeriveKeyPair(seed, info)).

    Args:
        seed: 32 secret random bytes.
        info: public bytes naming what the key is for.
    """

    __slots__ = ("_evaluator", "public_key")

    def __init__(self, seed: bytes, info: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an epoch seed is 32 bytes")
        self._evaluator = ristretto.Evaluator.from_seed(seed, info)
        self.public_key: bytes = self._evaluator.public_key.serialize()

    def evaluate(self, inputs: Iterable[bytes]) -> list[bytes]:
        """RFC 9497 Evaluate on known inputs (the holder's own values): 64-byte outputs."""
        run = self._evaluator.evaluate_known_input
        return [run(x) for x in inputs]

    def parse(self, body: bytes, limit: int = MAX_BATCH) -> list[ristretto.BlindedInput]:
        """An evaluation request's elements, each checked (before any work is counted).

        Raises:
            PrivateLookupError, BadElement: the request is malformed.
        """
        return _blinded(split_elements(body, limit))

    def answer(self, elements: Sequence[ristretto.BlindedInput]) -> bytes:
        """RFC 9497 BlindEvaluate on a parsed batch: the evaluated elements, then the proof."""
        raw = self._evaluator.evaluate_batch(elements).serialize()
        # The package writes the proof first; Accord's answer puts it last.
        return raw[PROOF:] + raw[:PROOF]

    def blind_evaluate(self, body: bytes, limit: int = MAX_BATCH) -> tuple[int, bytes]:
        """Answer an evaluation request: (how many elements, the answer's bytes).

        Raises:
            PrivateLookupError, BadElement: the request is malformed.
        """
        elements = self.parse(body, limit)
        return len(elements), self.answer(elements)


@dataclass(slots=True)
class Blinded:
    """A querier's blinded batch: the secret blinds (inside the package) and the request body."""

    clients: list[ristretto.Client]
    body: bytes

    def __len__(self) -> int:
        return len(self.clients)


def blind(inputs: Sequence[bytes]) -> Blinded:
    """RFC 9497 Blind for each input, with fresh random blinds."""
    clients: list[ristretto.Client] = []
    parts: list[bytes] = []
    for x in inputs:
        client, blinded = ristretto.Client.blind(x)
        clients.append(client)
        parts.append(blinded.serialize())
    return Blinded(clients, b"".join(parts))


def finalize(state: Blinded, answer: bytes, public_key: bytes) -> list[bytes]:
    """Verify the batch's DLEQ proof and Finalize each output (64 bytes each).

    Raises:
        PrivateLookupError: the answer has the wrong length.
        BadElement: an evaluated element or the key is not a valid element.
        DleqProofInvalid: the proof fails against ``public_key``.
    """
    n = len(state.clients)
    if len(answer) != n * ELEMENT + PROOF:
        raise PrivateLookupError(
            f"the answer is {len(answer)} bytes: {n} elements and a proof"
            f" make {n * ELEMENT + PROOF}"
        )
    key = check_public_key(public_key)
    try:
        output = ristretto.VerifiableBatchOutput.deserialize(answer[-PROOF:] + answer[:-PROOF])
    except ValueError:
        raise BadElement(
            "the answer holds an element or scalar that is not canonical ristretto255"
        ) from None
    try:
        return list(ristretto.Client.finalize_batch(state.clients, output, key))
    except ValueError:
        raise DleqProofInvalid(_FAILED) from None
    except BaseException as exc:
        # voprf 0.2's finalize_batch panics on a failing proof (a Rust unwrap; it
        # prints the panic to stderr): pyo3 raises PanicException, which derives
        # from BaseException and has no importable name.
        if type(exc).__name__ == "PanicException":
            raise DleqProofInvalid(_FAILED) from None
        raise


_FAILED = "the DLEQ proof does not verify against the epoch's public key"
