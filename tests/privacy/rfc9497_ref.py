"""An independent RFC 9497 VOPRF (ristretto255-SHA512) over libsodium, for the tests.

The product uses the ``voprf`` package, whose API hides the blinds and the
proof's randomness, so the RFC's Appendix A vectors cannot be replayed through
it byte for byte. This reference (libsodium's ristretto255 through pysodium,
the hashes from hashlib) takes them as arguments; the tests check it against
the vectors and then check the package against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pysodium

L = 2**252 + 27742317777372353535851937790883648493
MODE_VOPRF = 1
CONTEXT = b"OPRFV1-" + bytes([MODE_VOPRF]) + b"-ristretto255-SHA512"


def i2osp(n: int, size: int) -> bytes:
    return n.to_bytes(size, "big")


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512."""
    ell = -(-length // 64)
    dst_prime = dst + i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(128) + msg + i2osp(length, 2) + b"\x00" + dst_prime).digest()
    b = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, b[-1], strict=True))
        b.append(hashlib.sha512(mixed + i2osp(i, 1) + dst_prime).digest())
    return b"".join(b)[:length]


def hash_to_group(x: bytes) -> bytes:
    uniform = expand_message_xmd(x, b"HashToGroup-" + CONTEXT, 64)
    return bytes(pysodium.crypto_core_ristretto255_from_hash(uniform))


def hash_to_scalar(x: bytes, dst: bytes | None = None) -> bytes:
    uniform = expand_message_xmd(x, dst or b"HashToScalar-" + CONTEXT, 64)
    return bytes(pysodium.crypto_core_ristretto255_scalar_reduce(uniform))


def canonical_scalar(s: bytes) -> bool:
    return len(s) == 32 and int.from_bytes(s, "little") < L


def random_scalar() -> bytes:
    return bytes(pysodium.crypto_core_ristretto255_scalar_random())


def valid_element(e: bytes) -> bool:
    """RFC 9497 §4.1 DeserializeElement: canonical, and not the identity."""
    return len(e) == 32 and bool(pysodium.crypto_core_ristretto255_is_valid_point(e))


def mul(k: bytes, p: bytes) -> bytes:
    return bytes(pysodium.crypto_scalarmult_ristretto255(k, p))


def add(p: bytes, q: bytes) -> bytes:
    return bytes(pysodium.crypto_core_ristretto255_add(p, q))


def base(k: bytes) -> bytes:
    return bytes(pysodium.crypto_scalarmult_ristretto255_base(k))


def derive_key_pair(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    derive_input = seed + i2osp(len(info), 2) + info
    for counter in range(256):
        sk = hash_to_scalar(derive_input + i2osp(counter, 1), b"DeriveKeyPair" + CONTEXT)
        if any(sk):
            return sk, base(sk)
    raise ValueError("DeriveKeyPairError")


def blind(x: bytes, r: bytes) -> bytes:
    return mul(r, hash_to_group(x))


def finalize(x: bytes, r: bytes, evaluated: bytes) -> bytes:
    n = mul(bytes(pysodium.crypto_core_ristretto255_scalar_invert(r)), evaluated)
    return hashlib.sha512(i2osp(len(x), 2) + x + i2osp(len(n), 2) + n + b"Finalize").digest()


def evaluate(sk: bytes, x: bytes) -> bytes:
    n = mul(sk, hash_to_group(x))
    return hashlib.sha512(i2osp(len(x), 2) + x + i2osp(len(n), 2) + n + b"Finalize").digest()


def _composites(pk: bytes, cs: Sequence[bytes], ds: Sequence[bytes]) -> tuple[bytes, bytes]:
    seed_dst = b"Seed-" + CONTEXT
    seed = hashlib.sha512(i2osp(len(pk), 2) + pk + i2osp(len(seed_dst), 2) + seed_dst).digest()
    m = z = b""
    for i, (c, d) in enumerate(zip(cs, ds, strict=True)):
        transcript = (
            i2osp(len(seed), 2)
            + seed
            + i2osp(i, 2)
            + i2osp(len(c), 2)
            + c
            + i2osp(len(d), 2)
            + d
            + b"Composite"
        )
        di = hash_to_scalar(transcript)
        mc, md = mul(di, c), mul(di, d)
        m = mc if not m else add(m, mc)
        z = md if not z else add(z, md)
    return m, z


def _challenge(pk: bytes, m: bytes, z: bytes, t2: bytes, t3: bytes) -> bytes:
    transcript = b"".join(i2osp(len(x), 2) + x for x in (pk, m, z, t2, t3)) + b"Challenge"
    return hash_to_scalar(transcript)


def generate_proof(
    sk: bytes, pk: bytes, cs: Sequence[bytes], ds: Sequence[bytes], r: bytes
) -> bytes:
    m, z = _composites(pk, cs, ds)
    c = _challenge(pk, m, z, base(r), mul(r, m))
    s = bytes(
        pysodium.crypto_core_ristretto255_scalar_sub(
            r, pysodium.crypto_core_ristretto255_scalar_mul(c, sk)
        )
    )
    return c + s


def verify_proof(pk: bytes, cs: Sequence[bytes], ds: Sequence[bytes], proof: bytes) -> bool:
    """RFC 9497 §2.2.2 VerifyProof, with DeserializeScalar's and DeserializeElement's checks."""
    if len(proof) != 64 or not all(map(valid_element, (pk, *cs, *ds))):
        return False
    c, s = proof[:32], proof[32:]
    if not (canonical_scalar(c) and canonical_scalar(s)):
        return False
    m, z = _composites(pk, cs, ds)
    t2 = add(base(s), mul(c, pk))
    t3 = add(mul(s, m), mul(c, z))
    return _challenge(pk, m, z, t2, t3) == c
