"""Private lookup (RFC 9497 VOPRF): holder preparation, the online protocol, FPR, anchors.

Side by side in one run:

- holder preparation: RFC 9497 Evaluate on N indicator values in one process per
  core, the padded filter (what ``accord lookup offer`` does after reading the
  values through the egress gate);
- online: M observations against the N-value filter: blind, evaluate (parse +
  batched DLEQ proof), finalize (proof verified), filter test; bytes each way;
- the floor: the same number of bare ristretto255 scalar multiplications
  (libsodium through pysodium) that any OPRF needs (blind, evaluate, unblind);
- OpenMined PSI (``openmined-psi``, ECDH-PSI over P-256, where it installs),
  with its own server set (``--psi-items``) and the same M client values;
- a keyed-hash baseline (HMAC-SHA256 with a key both sides hold: what MISP's
  and CIRCL's hashed lists amount to; no privacy against the key holder);
- the false-positive rate on F non-members (real OPRF outputs of values not in
  the set), against a filter sized for ``--fpr``.

Usage: ``.venv/bin/python bench/lookup.py [--indicators 1000000] [--observations 10000]``
Prints a Markdown report on standard output.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import log, package_version, report_header, verdict
from accord.privacy import (
    EpochKey,
    Filter,
    blind,
    build_filter,
    digest,
    epoch_info,
    finalize,
    oprf_input,
    size_class,
    tag,
)
from accord.service.lookup import evaluate_parallel

T = TypeVar("T")


def timed(what: str, fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    log(f"{what}: {seconds:.2f} s")
    return result, seconds


_IPV4_BASE = {"held": 0x0A000000, "seen": 0x2C000000, "stranger": 0x4E000000}


def values(n: int, salt: str) -> list[tuple[str, str]]:
    """``n`` distinct canonical values, a realistic mix of kinds; no two salts share one."""
    out: list[tuple[str, str]] = []
    base = _IPV4_BASE[salt]
    for i in range(n):
        r = i % 4
        if r == 0:
            out.append(("ipv4-addr", str(ipaddress.IPv4Address(base + i))))
        elif r == 1:
            out.append(("domain-name", f"host{i}.{salt}.example"))
        elif r == 2:
            out.append(("hash", hashlib.sha256(f"{salt}{i}".encode()).hexdigest()))
        else:
            out.append(("url", f"http://{salt}{i}.example/path/{i}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--observations", type=int, default=10_000)
    parser.add_argument("--overlap", type=float, default=0.1, help="share of observations held")
    parser.add_argument("--non-members", type=int, default=1_000_000)
    parser.add_argument("--fpr", type=float, default=1e-4, help="FPR of the measured filter")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--psi-items", type=int, default=100_000)
    args = parser.parse_args()
    when = time.gmtime()
    load_before = os.getloadavg()[0]
    n, m = args.indicators, args.observations
    seed = secrets.token_bytes(32)
    info = epoch_info("bench", 1)
    key = EpochKey(seed, info)

    # -- holder preparation ----------------------------------------------------------
    held = values(n, "held")
    inputs = [oprf_input(k, v) for k, v in held]
    outputs, t_eval = timed(
        f"Evaluate {n:,} values, {args.workers} processes",
        lambda: evaluate_parallel(seed, info, inputs, args.workers),
    )
    sample = inputs[:20_000]
    _, t_one = timed("Evaluate 20,000 values, 1 process", lambda: key.evaluate(sample))
    capacity = size_class(n)
    data, t_filter = timed(
        "build the filter", lambda: build_filter([tag(o) for o in outputs], capacity, 1e-6)
    )
    prep = t_eval + t_filter
    prep_per_million = prep * 1e6 / n

    # -- online -----------------------------------------------------------------------
    hits_wanted = int(m * args.overlap)
    queried = held[:hits_wanted] + values(m - hits_wanted, "seen")
    q_inputs = [oprf_input(k, v) for k, v in queried]
    filt = Filter(data, digest(data))
    state, t_blind = timed(f"blind {m:,}", lambda: blind(q_inputs))
    parsed, t_parse = timed("server: parse the elements", lambda: key.parse(state.body))
    answer, t_answer = timed("server: BlindEvaluate + DLEQ proof", lambda: key.answer(parsed))
    outs, t_final = timed(
        "client: verify + Finalize", lambda: finalize(state, answer, key.public_key)
    )
    found, t_test = timed("client: filter test", lambda: filt.hits(outs))
    online = t_blind + t_parse + t_answer + t_final + t_test
    assert sum(found) >= hits_wanted and all(found[:hits_wanted])
    sent, received = len(state.body), len(answer)

    # -- the floor: bare scalar multiplications -----------------------------------------
    floor = None
    try:
        import pysodium

        scalars = [pysodium.crypto_core_ristretto255_scalar_random() for _ in range(1000)]
        point = pysodium.crypto_scalarmult_ristretto255_base(scalars[0])
        mults = 3 * m

        def bare() -> None:
            for i in range(mults):
                pysodium.crypto_scalarmult_ristretto255(scalars[i % 1000], point)

        _, floor = timed(f"{mults:,} bare scalar multiplications (libsodium)", bare)
    except (ImportError, OSError, ValueError) as exc:
        log(f"floor skipped: {exc}")

    # -- keyed hash -----------------------------------------------------------------------
    hkey = secrets.token_bytes(32)

    def keyed(vals: list[bytes]) -> list[bytes]:
        return [hmac.new(hkey, x, hashlib.sha256).digest() for x in vals]

    table, t_hprep = timed(f"keyed hash: {n:,} HMACs and a set", lambda: set(keyed(inputs)))
    _, t_hquery = timed(
        f"keyed hash: {m:,} HMACs, lookups", lambda: [h in table for h in keyed(q_inputs)]
    )

    # -- OpenMined PSI --------------------------------------------------------------------
    psi_row = None
    try:
        import private_set_intersection.python as psi

        p = min(args.psi_items, n)
        server = psi.server.CreateWithNewKey(True)
        items = [x.decode() for x in inputs[:p]]
        setup, t_psetup = timed(
            f"PSI: server setup, {p:,} items",
            lambda: server.CreateSetupMessage(1e-6, m, items, psi.DataStructure.GCS),
        )
        client = psi.client.CreateWithNewKey(True)
        q_items = [x.decode() for x in q_inputs]
        req, t_preq = timed("PSI: client request", lambda: client.CreateRequest(q_items))
        resp, t_presp = timed("PSI: server response", lambda: server.ProcessRequest(req))
        inter, t_pint = timed("PSI: intersection", lambda: client.GetIntersection(setup, resp))
        assert len(inter) >= min(hits_wanted, p)
        psi_row = (
            p,
            t_psetup,
            t_preq + t_presp + t_pint,
            req.ByteSize(),
            resp.ByteSize(),
            setup.ByteSize(),
        )
    except ImportError as exc:
        log(f"OpenMined PSI skipped: {exc}")

    # -- the false-positive rate ----------------------------------------------------------
    f = args.non_members
    strangers = [oprf_input(k, v) for k, v in values(f, "stranger")]
    s_out, t_sout = timed(
        f"Evaluate {f:,} non-members",
        lambda: evaluate_parallel(seed, info, strangers, args.workers),
    )
    fdata = build_filter([tag(o) for o in outputs], capacity, args.fpr)
    false = sum(Filter(fdata, digest(fdata)).hits(s_out))
    measured = false / f

    # -- the report -------------------------------------------------------------------------
    lines = report_header(
        "Private lookup (RFC 9497 VOPRF)",
        when,
        {
            "Python": sys.version.split()[0],
            "voprf": package_version("voprf"),
            "rbloom": package_version("rbloom"),
            "pysodium": package_version("pysodium"),
            "openmined-psi": package_version("openmined-psi"),
        },
    )
    lines += [
        f"- {n:,} indicator values (IPv4, domains, SHA-256, URLs), {m:,} observations of "
        f"which {hits_wanted:,} are held; {args.workers} worker processes.",
        "- Measured on a shared 2-core machine while other work ran (load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end): the figures "
        "are upper bounds.",
        "",
        "| step | seconds | goal |",
        "|---|---:|---|",
        f"| holder: Evaluate {n:,} values ({args.workers} processes) | {t_eval:.2f} | |",
        f"| holder: the same, 1 process, per 1e6 (from 20,000) | {t_one * 1e6 / 20_000:.2f} | |",
        f"| holder: filter of {capacity:,} (FPR 1e-6, {len(data):,} bytes) | {t_filter:.2f} | |",
        f"| **holder preparation per 1e6 indicators** | **{prep_per_million:.2f}** | "
        f"< 60 s: {verdict(prep_per_million < 60)} |",
        f"| querier: blind {m:,} | {t_blind:.2f} | |",
        f"| holder: parse {m:,} elements | {t_parse:.2f} | |",
        f"| holder: BlindEvaluate + batched DLEQ proof | {t_answer:.2f} | |",
        f"| querier: verify the proof + Finalize | {t_final:.2f} | |",
        f"| querier: filter test | {t_test:.3f} | |",
        f"| **online, {m:,} against {n:,}** | **{online:.2f}** | < 5 s: {verdict(online < 5)} |",
        "",
        f"Bytes on the wire, online: {sent:,} sent (32 per value), {received:,} received "
        f"(32 per value and a 64-byte proof); the filter, once per epoch: {len(data):,} bytes.",
        "",
        f"| contender, {m:,} observations | preparation per 1e6 (s) | online (s) | bytes online |",
        "|---|---:|---:|---:|",
        f"| Accord VOPRF (verifiable, batched proof) | {prep_per_million:.2f} | {online:.2f} | "
        f"{sent + received:,} |",
    ]
    if floor is not None:
        lines.append(
            f"| floor: {3 * m:,} bare ristretto255 scalar multiplications (libsodium) | | "
            f"{floor:.2f} | |"
        )
    if psi_row is not None:
        p, t_psetup, t_ponline, b_req, b_resp, b_setup = psi_row
        lines.append(
            f"| OpenMined PSI 2.0 (ECDH, P-256, GCS), server set {p:,} | "
            f"{t_psetup * 1e6 / p:.2f} (extrapolated from {p:,}) | {t_ponline:.2f} | "
            f"{b_req + b_resp:,} (+ setup {b_setup:,}) |"
        )
    lines += [
        f"| keyed hash (HMAC-SHA256, shared key: no privacy) | {t_hprep * 1e6 / n:.2f} | "
        f"{t_hquery:.3f} | {32 * m:,} |",
        "",
        f"False-positive rate: {false:,} of {f:,} non-members (real OPRF outputs) pass a filter "
        f"sized for {args.fpr:g}: {measured:.2e}, {measured / args.fpr:.2f}x the configured "
        f"rate (goal within 2x: {verdict(args.fpr / 2 <= measured <= args.fpr * 2)}); "
        f"evaluating them took {t_sout:.2f} s.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
